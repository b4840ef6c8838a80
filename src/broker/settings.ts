/**
 * broker.conf, typed: what `certfleet broker …` runs with. Parsed by config.ts from the same INI
 * dialect as lematt.conf, with the same `file:line: error:` reporting.
 */
import type { BudgetSettings } from '../config/acme-endpoints.ts';
import type { DnsSetup } from '../config/dns.ts';
import type { ListenAddress } from '../server/listen.ts';

/** Where the broker keeps its records. */
export type StoreLocation = { kind: 'dir'; dir: string } | { kind: 'postgres'; url: string };

export interface BrokerSettings {
  /** broker.conf's path, for messages. */
  file: string;
  /** `listen`: one or more ADDR:PORT. */
  listen: ListenAddress[];
  /** `tlsCert`/`tlsKey`: both or neither (neither: plain HTTP behind a TLS-terminating load balancer). */
  tls: { certFile: string; keyFile: string } | null;
  /** `publicUrl`, without a trailing slash: the base of every URL devices are given. */
  publicUrl: string;
  store: StoreLocation;
  /** `upstream`: the real CA's directory URL. */
  upstream: string;
  /** `accountKey`: the upstream account's key (PEM), created by `serve` when missing. */
  accountKeyFile: string;
  contact: string[];
  /** `profile` asked of the upstream CA; null: its default. */
  profile: string | null;
  /** Line of `profile` in broker.conf, for the error when the CA does not offer it. */
  profileLine?: number;
  /** `parallel`: upstream orders in flight at once (default 20). */
  parallel: number;
  /** `ari`: pass the CA's renewalInfo through to devices (default yes). */
  ari: boolean;
  /** `rateBudget`, `ordersPer3Hours`, `certsPerDomainPerWeek` (Let's Encrypt's figures by default). */
  budget: BudgetSettings;
  /** `[dns:*]` sections, exactly as lematt.conf has them. */
  dns: DnsSetup[];
}
