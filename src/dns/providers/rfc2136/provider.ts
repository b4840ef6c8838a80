/**
 * DNS-01 through RFC 2136 dynamic updates signed with TSIG (RFC 8945), the way BIND, Knot,
 * PowerDNS and Windows DNS accept them. Each record is added or deleted exactly, so other TXT
 * values at the same owner (another order's, SPF, verification tokens) stay; `presentMany` and
 * `cleanupMany` carry many records of one zone in one message.
 */
import { isIPv6 } from 'node:net';
import { sendUpdate, type DnsServer } from '../../client.ts';
import { DnsError } from '../../errors.ts';
import { normalizeName } from '../../names.ts';
import type { TsigKey } from '../../tsig.ts';
import { RRType } from '../../types.ts';
import { findZone } from '../../zone.ts';
import type { UpdateOp } from '../../update.ts';
import { DnsProviderError, type DnsRecordProvider, type TxtRecord } from '../provider.ts';

/** Records per UPDATE message: about 100 octets each, well inside TCP's 64 KiB. */
const MAX_OPS = 400;

export type { DnsRecordProvider } from '../provider.ts';

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
  /** Clock for TSIG in milliseconds since the epoch (tests skew it). */
  now?: () => number;
}

/**
 * Creates an rfc2136 provider. `present`/`cleanup` find the zone by SOA at the configured
 * server (remembered per name), then send one signed update. Both throw DnsProviderError
 * whose message names the record, zone and server and says what to check
 * (`add TXT _acme-challenge.x: dns update zone x at 127.0.0.1:5353: NOTAUTH: … BADSIG (the
 * server rejected the signature of key "k.": check tsigSecret)`); `code` is the TSIG error
 * (BADSIG, BADKEY, BADTIME) or the rcode (REFUSED, NOTAUTH, NOTZONE…) or TIMEOUT/NETWORK.
 * The secret never appears in a message.
 */
export function createRfc2136Provider(config: Rfc2136Config): DnsRecordProvider {
  const zones = new Map<string, string>();
  const timeoutMs = config.timeoutMs ?? 5000;

  async function zoneOf(fqdn: string): Promise<string> {
    if (config.zone) return normalizeName(config.zone);
    let zone = zones.get(fqdn);
    if (!zone) {
      zone = await findZone(fqdn, config.server, { timeoutMs: Math.min(timeoutMs, 2000) });
      zones.set(fqdn, zone);
    }
    return zone;
  }

  async function update(action: 'add' | 'delete', fqdn: string, value: string): Promise<void> {
    const name = normalizeName(fqdn);
    const data = { kind: 'TXT' as const, strings: [value] };
    try {
      const zone = await zoneOf(name);
      // Class NONE deletes only the RR with this exact RDATA (RFC 2136 §2.5.4).
      const op = action === 'add' ? { kind: 'add' as const, name, ttl: config.ttl ?? 60, data } : { kind: 'delete' as const, name, data };
      await sendUpdate(config.server, zone, [op], config.tsig, { timeoutMs, now: config.now });
    } catch (e) {
      throw explain(e, `${action} TXT ${name}`, config.tsig);
    }
  }

  /** One message per zone (and per MAX_OPS records of it), over TCP: BIND takes updates up to 64 KiB. */
  async function updateMany(action: 'add' | 'delete', records: readonly TxtRecord[]): Promise<void> {
    const byZone = new Map<string, UpdateOp[]>();
    for (const r of records) {
      const name = normalizeName(r.fqdn);
      const data = { kind: 'TXT' as const, strings: [r.value] };
      let zone: string;
      try {
        zone = await zoneOf(name);
      } catch (e) {
        throw explain(e, `${action} TXT ${name}`, config.tsig);
      }
      const ops = byZone.get(zone) ?? [];
      ops.push(action === 'add' ? { kind: 'add', name, ttl: config.ttl ?? 60, data } : { kind: 'delete', name, data });
      byZone.set(zone, ops);
    }
    for (const [zone, ops] of byZone) {
      for (let i = 0; i < ops.length; i += MAX_OPS) {
        const chunk = ops.slice(i, i + MAX_OPS);
        try {
          await sendUpdate(config.server, zone, chunk, config.tsig, { timeoutMs, now: config.now, transport: 'tcp' });
        } catch (e) {
          throw explain(e, `${action} ${chunk.length} TXT record(s) in zone ${zone}`, config.tsig);
        }
      }
    }
  }

  return {
    present: (fqdn, value) => update('add', fqdn, value),
    cleanup: (fqdn, value) => update('delete', fqdn, value),
    async setAddresses(fqdn, addresses, ttl) {
      const name = normalizeName(fqdn);
      // One message: the server applies it whole or not at all (RFC 2136 §3.4.2), so readers
      // never see the name without an address in between.
      const ops = [
        { kind: 'delete-rrset' as const, name, type: RRType.A },
        { kind: 'delete-rrset' as const, name, type: RRType.AAAA },
        ...addresses.map((address) => ({ kind: 'add' as const, name, ttl, data: isIPv6(address) ? { kind: 'AAAA' as const, address } : { kind: 'A' as const, address } })),
      ];
      try {
        await sendUpdate(config.server, await zoneOf(name), ops, config.tsig, { timeoutMs, now: config.now });
      } catch (e) {
        throw explain(e, `set A/AAAA of ${name}`, config.tsig);
      }
    },
    presentMany: (records) => updateMany('add', records),
    cleanupMany: (records) => updateMany('delete', records),
  };
}

/** What to check for each failure a primary reports (RFC 8945 §5.2, RFC 2136 §2.2). */
function hint(e: DnsError, key: TsigKey): string | undefined {
  switch (e.tsigError) {
    case 'BADSIG':
      return `the server rejected the signature of key "${key.name}": check tsigSecret`;
    case 'BADKEY':
      return `the server has no key "${key.name}" with algorithm ${key.algorithm}: check tsigKey and tsigAlgorithm`;
    case 'BADTIME':
      return "this machine's clock and the server's differ by more than 5 minutes";
  }
  switch (e.code) {
    case 'REFUSED':
      return `the server does not let key "${key.name}" update this zone: check its allow-update or update-policy`;
    case 'NOTAUTH':
      return `the server is not the primary of this zone, or did not accept key "${key.name}"`;
    case 'NOTZONE':
      return 'the name is not inside the zone updated';
    case 'TIMEOUT':
    case 'NETWORK':
      return 'check that server is right and reachable';
  }
  return undefined;
}

function explain(e: unknown, what: string, key: TsigKey): unknown {
  if (e instanceof DnsError) {
    const why = hint(e, key);
    return new DnsProviderError(`${what}: ${e.message}${why ? ` (${why})` : ''}`, e.tsigError && e.tsigError !== 'UNSIGNED' ? e.tsigError : e.code, { cause: e });
  }
  if (e instanceof Error) return new DnsProviderError(`${what}: ${e.message}`, 'dns', { cause: e });
  return e;
}
