/**
 * The DNS-01 logic every provider shares (RFC 8555 §8.4): the record name and value, the zone
 * that holds a name, CNAME delegation, the zone's authoritative servers and the wait until they
 * all serve the values. The resolver is a server the config names; it is asked directly.
 */
import { createHash } from 'node:crypto';
import { query, type DnsServer } from './client.ts';
import { normalizeName, parentName, sameName } from './names.ts';
import { formatServer } from './transport.ts';
import { RRType, rcodeName, type DnsMessage } from './types.ts';

export { waitForPropagation, type PropagationOptions } from './propagation.ts';

/** Per-query time limit of the lookups below unless given. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 2000;

/** Options shared by the lookups of this module. */
export interface LookupOptions {
  /** Per UDP attempt (default 2000 ms). */
  timeoutMs?: number;
}

/** CNAME hops followed at most (lego and certbot use similar small bounds). */
export const MAX_CNAME_HOPS = 8;

/**
 * `_acme-challenge.<name>` for a DNS identifier; a wildcard's `*.` is stripped (RFC 8555 §8.4),
 * so `*.example.com` and `example.com` share one owner name. Lower-cased, no trailing dot.
 */
export function challengeName(identifier: string): string {
  const name = normalizeName(identifier.trim());
  return `_acme-challenge.${name.startsWith('*.') ? name.slice(2) : name}`;
}

/** The TXT value for a key authorization: base64url(SHA-256(keyAuthorization)), no padding. */
export function challengeValue(keyAuthorization: string): string {
  return createHash('sha256').update(keyAuthorization, 'utf8').digest('base64url');
}

function ask(resolver: DnsServer, name: string, type: number, opts: LookupOptions): Promise<DnsMessage> {
  return query(resolver, name, type, { timeoutMs: opts.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS });
}

/**
 * The zone apex holding `name`: walks from `name` towards the root asking `resolver` for SOA
 * and returns the first name whose SOA is in the answer section under that same owner (a
 * CNAME's target SOA does not count). Throws Error naming the name and resolver when no level
 * has one, or DnsError when the resolver does not answer.
 */
export async function findZone(name: string, resolver: DnsServer, opts: LookupOptions = {}): Promise<string> {
  const seen: string[] = [];
  for (let candidate: string | undefined = normalizeName(name); candidate; candidate = parentName(candidate)) {
    const answer = await ask(resolver, candidate, RRType.SOA, opts);
    const owner = candidate;
    if (answer.rcode === 0 && answer.answers.some((rr) => rr.type === RRType.SOA && sameName(rr.name, owner))) {
      return owner;
    }
    seen.push(`${candidate}: ${answer.rcode === 0 ? 'no SOA' : rcodeName(answer.rcode)}`);
  }
  throw new Error(`dns zone for ${name}: no SOA found at ${formatServer(resolver)} (${seen.join(', ')})`);
}

/**
 * Follows CNAMEs from `name` (how `_acme-challenge` is delegated to another zone) and returns
 * the final target, or `name` itself when it is no CNAME. Throws Error on a loop or after
 * MAX_CNAME_HOPS hops, naming the chain.
 */
export async function followCnames(name: string, resolver: DnsServer, opts: LookupOptions = {}): Promise<string> {
  const chain = [normalizeName(name)];
  for (;;) {
    const current = chain[chain.length - 1];
    const answer = await ask(resolver, current, RRType.CNAME, opts);
    const rr = answer.answers.find((r) => r.data.kind === 'CNAME' && sameName(r.name, current));
    if (!rr || rr.data.kind !== 'CNAME') return current;
    const target = normalizeName(rr.data.target);
    if (chain.includes(target)) throw new Error(`dns cname ${name}: loop ${[...chain, target].join(' -> ')}`);
    if (chain.length > MAX_CNAME_HOPS) {
      throw new Error(`dns cname ${name}: more than ${MAX_CNAME_HOPS} hops: ${[...chain, target].join(' -> ')}`);
    }
    chain.push(target);
  }
}

/** One authoritative server of a zone: its NS name and one of its addresses. */
export interface AuthoritativeServer extends DnsServer {
  nsName: string;
}

/**
 * The zone's authoritative servers: its NS records, each resolved to its A and AAAA addresses
 * (glue from the answer first, else asked of `resolver`). `port` (default 53) is the port they
 * are asked on. Throws Error when the zone has no NS records or none resolves to an address.
 */
export async function authoritativeServers(
  zone: string,
  resolver: DnsServer,
  opts: LookupOptions & { port?: number } = {},
): Promise<AuthoritativeServer[]> {
  const answer = await ask(resolver, zone, RRType.NS, opts);
  const hosts = answer.answers.flatMap((rr) => (rr.data.kind === 'NS' && sameName(rr.name, zone) ? [rr.data.host] : []));
  if (hosts.length === 0) {
    throw new Error(`dns zone ${zone}: no NS records at ${formatServer(resolver)} (${rcodeName(answer.rcode)})`);
  }
  const servers: AuthoritativeServer[] = [];
  for (const nsName of [...new Set(hosts.map(normalizeName))].sort()) {
    for (const address of await addressesOf(nsName, answer, resolver, opts)) {
      servers.push({ nsName, host: address, port: opts.port ?? 53 });
    }
  }
  if (servers.length === 0) throw new Error(`dns zone ${zone}: no address for its name servers ${hosts.join(', ')}`);
  return servers;
}

async function addressesOf(host: string, nsAnswer: DnsMessage, resolver: DnsServer, opts: LookupOptions): Promise<string[]> {
  const fromRecords = (records: DnsMessage['answers']) =>
    records.flatMap((rr) =>
      (rr.data.kind === 'A' || rr.data.kind === 'AAAA') && sameName(rr.name, host) ? [rr.data.address] : [],
    );
  const glue = fromRecords(nsAnswer.additionals);
  if (glue.length > 0) return [...new Set(glue)];
  const found: string[] = [];
  for (const type of [RRType.A, RRType.AAAA]) found.push(...fromRecords((await ask(resolver, host, type, opts)).answers));
  return [...new Set(found)];
}
