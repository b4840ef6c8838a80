/**
 * The dns-01 solver (RFC 8555 §8.4): the one place that computes `_acme-challenge` names and
 * values, follows CNAME delegation, asks a provider to add or remove each TXT record and waits
 * until every authoritative server serves them (lego `challenge/dns01/dns_challenge.go`).
 * Providers only add and remove records.
 */
import type { DnsServer } from '../dns/client.ts';
import { PropagationError } from '../dns/errors.ts';
import type { DnsRecordProvider } from '../dns/providers/provider.ts';
import { formatServer } from '../dns/transport.ts';
import * as zone from '../dns/zone.ts';
import { findDnsSetup } from '../config/dns-names.ts';
import type { ArtifactJournal } from './artifact-journal.ts';
import type { Proof, Solver } from './solver.ts';

/** One `[dns:*]` setup, ready to use. */
export interface Dns01Setup {
  /** `[dns:internal] rfc2136`: starts the messages about this setup. */
  label: string;
  /** Names equal to or under these zones use this setup (lower case, no trailing dot). */
  zones: readonly string[];
  provider: DnsRecordProvider;
  /** Asked for CNAMEs, zones and NS records; null when there is none (a clear error then). */
  lookup: DnsServer | null;
  /** Where this setup's records are checked; null: the authoritative servers of each record's zone. */
  nameservers: readonly DnsServer[] | null;
  /** Also checked when `nameservers` is null: rfc2136's primary, which may be hidden (no NS record). */
  alsoCheck: readonly DnsServer[];
  propagationTimeoutMs: number;
  /** The section's name (`internal` of `[dns:internal]`), by which a recorded record finds its setup again. */
  name?: string;
}

/** The DNS questions the solver asks; tests replace them. */
export interface Dns01Lookups {
  followCnames(name: string, resolver: DnsServer): Promise<string>;
  findZone(name: string, resolver: DnsServer): Promise<string>;
  authoritativeServers(zone: string, resolver: DnsServer): Promise<DnsServer[]>;
  waitForPropagation(opts: zone.PropagationOptions): Promise<void>;
}

/** Options of createDns01Solver. */
export interface Dns01Options {
  setups: readonly Dns01Setup[];
  /** Progress (CNAMEs followed, waits); never receives a secret. */
  log?: (message: string) => void;
  /** Pause between rounds of propagation checks (default 2000 ms). */
  intervalMs?: number;
  lookups?: Partial<Dns01Lookups>;
  /** Records each TXT record before it is added and forgets it once removed (artifact-journal.ts). */
  journal?: ArtifactJournal;
}

/**
 * A dns-01 failure. `code` becomes the run summary's errorType: the provider's code (BADSIG,
 * REFUSED, exec, acme-dns…), `propagation`, or `dns` for a failed lookup.
 */
export class Dns01Error extends Error {
  override name = 'Dns01Error';
  constructor(message: string, readonly code: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A TXT record this solver added. */
interface Placed {
  fqdn: string;
  value: string;
  setup: Dns01Setup;
  /** Orders sharing one authorization present the same proof; the last cleanup removes it. */
  uses: number;
  /** Its record in the artifact journal, if any. */
  recordId?: string;
}

/** Pause between propagation checks unless told otherwise (lego's default). */
export const DEFAULT_INTERVAL_MS = 2000;

/**
 * Creates the dns-01 solver over `setups`, shared by every order of a run. `present` finds the
 * setup holding the identifier, follows `_acme-challenge.<name>` through CNAMEs with that
 * setup's `lookup`, and has the setup holding the final name (else the identifier's) add the
 * value. `settle` waits once for all records of an order. `cleanup` removes exactly the value
 * it added. Each throws Dns01Error whose message names the identifier or record, the setup
 * and what failed.
 */
export function createDns01Solver(opts: Dns01Options): Solver & { settle(proofs: readonly Proof[]): Promise<void> } {
  const lookups: Dns01Lookups = {
    followCnames: (name, resolver) => zone.followCnames(name, resolver),
    findZone: (name, resolver) => zone.findZone(name, resolver),
    authoritativeServers: (z, resolver) => zone.authoritativeServers(z, resolver),
    waitForPropagation: zone.waitForPropagation,
    ...opts.lookups,
  };
  const log = opts.log ?? (() => {});
  const placed = new Map<string, Placed>();
  const keyOf = (identifier: string, token: string) => `${identifier.toLowerCase()} ${token}`;

  return {
    type: 'dns-01',
    async present(identifier, token, keyAuthorization) {
      const key = keyOf(identifier, token);
      const known = placed.get(key);
      if (known) {
        known.uses++;
        return;
      }
      const setup = findDnsSetup(identifier, opts.setups);
      if (!setup) throw new Dns01Error(`dns-01 ${identifier}: no [dns:*] zone holds this name`, 'dns-01');
      const owner = zone.challengeName(identifier);
      const fqdn = await ask(`dns-01 ${identifier} ${setup.label}: following CNAMEs of ${owner}`, setup, (r) => lookups.followCnames(owner, r));
      const writer = findDnsSetup(fqdn, opts.setups) ?? setup;
      if (fqdn !== owner) log(`dns-01 ${identifier}: ${owner} is delegated to ${fqdn} (${writer.label})`);
      const value = zone.challengeValue(keyAuthorization);
      const recordId = writer.name && opts.journal ? await opts.journal.record({ type: 'dns-01', setup: writer.name, fqdn, value }) : undefined;
      try {
        await writer.provider.present(fqdn, value);
      } catch (e) {
        // The record may exist all the same (an answer lost on the way): the next run removes it.
        throw providerError(e, `dns-01 ${identifier} ${writer.label}`);
      }
      placed.set(key, { fqdn, value, setup: writer, uses: 1, recordId });
    },

    async settle(proofs) {
      const records = [...new Set(proofs.map((p) => placed.get(keyOf(p.identifier, p.token))).filter((r) => r !== undefined))];
      const groups = new Map<string, { servers: readonly DnsServer[]; records: Placed[]; setup: Dns01Setup }>();
      const zoneServers = new Map<string, Promise<readonly DnsServer[]>>();
      for (const r of records) {
        const servers = r.setup.nameservers ?? (await serversFor(r, zoneServers));
        const group = `${r.setup.label} ${servers.map(formatServer).join(' ')}`;
        if (!groups.has(group)) groups.set(group, { servers, records: [], setup: r.setup });
        groups.get(group)!.records.push(r);
      }
      await Promise.all([...groups.values()].map((g) => waitFor(g.setup, g.servers, g.records)));
    },

    async cleanup(identifier, token) {
      const key = keyOf(identifier, token);
      const r = placed.get(key);
      if (!r || --r.uses > 0) return;
      placed.delete(key);
      try {
        await r.setup.provider.cleanup(r.fqdn, r.value);
      } catch (e) {
        throw providerError(e, `dns-01 ${identifier} ${r.setup.label}`);
      }
      if (r.recordId) await opts.journal?.done(r.recordId);
    },
  };

  /** Runs a lookup with the setup's resolver, turning failures into Dns01Error `dns`. */
  async function ask<T>(what: string, setup: Dns01Setup, run: (resolver: DnsServer) => Promise<T>): Promise<T> {
    if (!setup.lookup) throw new Dns01Error(`${what}: no DNS server to ask; set nameservers in the section`, 'dns');
    try {
      return await run(setup.lookup);
    } catch (e) {
      throw new Dns01Error(`${what}: ${(e as Error).message}`, 'dns', { cause: e });
    }
  }

  /** The authoritative servers of the record's zone, found through DNS, plus `alsoCheck`. */
  function serversFor(r: Placed, cache: Map<string, Promise<readonly DnsServer[]>>): Promise<readonly DnsServer[]> {
    const key = `${r.setup.label} ${r.fqdn}`;
    if (!cache.has(key)) {
      cache.set(key, ask(`dns-01 ${r.setup.label}: finding the servers of ${r.fqdn}`, r.setup, async (resolver) => {
        const found = await lookups.authoritativeServers(await lookups.findZone(r.fqdn, resolver), resolver);
        const all = [...found, ...r.setup.alsoCheck];
        return all.filter((s, i) => all.findIndex((t) => formatServer(t) === formatServer(s)) === i);
      }));
    }
    return cache.get(key)!;
  }

  async function waitFor(setup: Dns01Setup, servers: readonly DnsServer[], records: Placed[]): Promise<void> {
    const started = Date.now();
    const where = servers.map(formatServer).join(', ');
    log(`dns-01 ${setup.label}: waiting until ${where} serve ${records.length} TXT record(s), at most ${setup.propagationTimeoutMs / 1000} s`);
    try {
      await lookups.waitForPropagation({
        records: records.map((r) => ({ name: r.fqdn, value: r.value })),
        servers: [...servers],
        timeoutMs: setup.propagationTimeoutMs,
        intervalMs: opts.intervalMs ?? DEFAULT_INTERVAL_MS,
      });
    } catch (e) {
      if (!(e instanceof PropagationError)) throw new Dns01Error(`dns-01 ${setup.label}: ${(e as Error).message}`, 'dns', { cause: e });
      const lagging = e.missing.map((m) => `${m.server} lacks TXT ${m.name} "${m.value}"${m.reason ? ` (${m.reason})` : ''}`);
      throw new Dns01Error(
        `dns-01 ${setup.label}: not served everywhere after ${setup.propagationTimeoutMs / 1000} s, so the CA was not asked: ${lagging.join('; ')}`,
        'propagation',
        { cause: e },
      );
    }
    log(`dns-01 ${setup.label}: served by ${where} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

function providerError(e: unknown, subject: string): Dns01Error {
  const code = (e as { code?: unknown }).code;
  return new Dns01Error(`${subject}: ${(e as Error).message ?? String(e)}`, typeof code === 'string' ? code : 'dns-01', { cause: e });
}
