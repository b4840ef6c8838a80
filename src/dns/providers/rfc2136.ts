/**
 * DNS-01 through RFC 2136 dynamic updates signed with TSIG (RFC 8945), the way BIND, Knot,
 * PowerDNS and Windows DNS accept them. Each call adds or deletes exactly one TXT record, so
 * other TXT values at the same owner (another order's, SPF, verification tokens) stay.
 */
import { sendUpdate, type DnsServer } from './client.ts';
import { normalizeName } from './names.ts';
import type { TsigKey } from './tsig.ts';
import { findZone } from './zone.ts';

/** Settings of the rfc2136 provider. */
export interface Rfc2136Config {
  /** The primary server that accepts updates; also asked for SOA to find the zone. */
  server: DnsServer;
  tsig: TsigKey;
  /** TTL of the TXT records added (default 60 s). */
  ttl?: number;
  /** Per exchange (default 5000 ms). */
  timeoutMs?: number;
  /** The zone to update, when SOA lookups cannot find it (e.g. the server refuses queries). */
  zone?: string;
}

/** The two-method contract of a DNS-01 provider: publish one TXT value, then withdraw it. */
export interface DnsRecordProvider {
  /** Adds the TXT record `fqdn` = `value`; resolves once the primary accepted it. */
  present(fqdn: string, value: string): Promise<void>;
  /** Deletes exactly that TXT record; deleting an absent record succeeds. */
  cleanup(fqdn: string, value: string): Promise<void>;
}

/**
 * Creates an rfc2136 provider. `present`/`cleanup` find the zone by SOA at the configured
 * server (remembered per name), then send one signed update. Both throw DnsError on failure,
 * its message naming the zone and server (`… at 127.0.0.1:5353: NOTAUTH: … BADSIG`), or Error
 * when no zone holds the name.
 */
export function createRfc2136Provider(config: Rfc2136Config): DnsRecordProvider {
  const zones = new Map<string, string>();
  const timeoutMs = config.timeoutMs ?? 5000;

  async function zoneOf(fqdn: string): Promise<string> {
    if (config.zone) return normalizeName(config.zone);
    const key = normalizeName(fqdn);
    let zone = zones.get(key);
    if (!zone) {
      zone = await findZone(key, config.server, { timeoutMs: Math.min(timeoutMs, 2000) });
      zones.set(key, zone);
    }
    return zone;
  }

  return {
    async present(fqdn, value) {
      const name = normalizeName(fqdn);
      const data = { kind: 'TXT' as const, strings: [value] };
      await sendUpdate(config.server, await zoneOf(name), [{ kind: 'add', name, ttl: config.ttl ?? 60, data }], config.tsig, {
        timeoutMs,
      });
    },
    async cleanup(fqdn, value) {
      const name = normalizeName(fqdn);
      const data = { kind: 'TXT' as const, strings: [value] };
      // Class NONE deletes only the RR with this exact RDATA (RFC 2136 §2.5.4).
      await sendUpdate(config.server, await zoneOf(name), [{ kind: 'delete', name, data }], config.tsig, { timeoutMs });
    },
  };
}
