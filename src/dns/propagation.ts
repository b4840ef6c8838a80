/** Waiting until every authoritative server serves every DNS-01 TXT value. */
import { query, type DnsServer } from './client.ts';
import { DnsError, PropagationError, type MissingRecord } from './errors.ts';
import { normalizeName, sameName } from './names.ts';
import { formatServer } from './transport.ts';
import { RRType, rcodeName, txtValue } from './types.ts';

/** What to wait for, where, and for how long. */
export interface PropagationOptions {
  /** TXT records that must be served; several values at one name are all required. */
  records: { name: string; value: string }[];
  /** Servers asked directly, with RD=0, usually from `authoritativeServers`. */
  servers: DnsServer[];
  /** Total time budget; the last check runs at the deadline. */
  timeoutMs: number;
  /** Pause between rounds of checks. */
  intervalMs: number;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
  /** Pause (default setTimeout); tests pass one that advances their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Per query attempt (default 1000 ms, two attempts). */
  queryTimeoutMs?: number;
  /** The TXT values a server holds at a name; throws when it cannot tell. Default: a DNS query. */
  lookupTxt?: (server: DnsServer, name: string, timeoutMs: number) => Promise<string[]>;
}

/**
 * Asks each server for each record's name until all servers serve all values. Resolves when
 * they do; throws PropagationError listing every server/record still lacking (with the lookup
 * failure, e.g. TIMEOUT or REFUSED, when there was one) once `timeoutMs` has passed.
 */
export async function waitForPropagation(opts: PropagationOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const start = now();
  for (;;) {
    const missing = (await Promise.all(opts.servers.map((server) => checkServer(server, opts)))).flat();
    if (missing.length === 0) return;
    const elapsed = now() - start;
    if (elapsed >= opts.timeoutMs) throw new PropagationError(missing, opts.timeoutMs);
    await sleep(Math.min(opts.intervalMs, opts.timeoutMs - elapsed));
  }
}

async function checkServer(server: DnsServer, opts: PropagationOptions): Promise<MissingRecord[]> {
  const lookup = opts.lookupTxt ?? lookupTxt;
  const missing: MissingRecord[] = [];
  const names = [...new Set(opts.records.map((r) => normalizeName(r.name)))];
  for (const name of names) {
    let values: string[] = [];
    let reason: string | undefined;
    try {
      values = await lookup(server, name, opts.queryTimeoutMs ?? 1000);
    } catch (e) {
      reason = describe(e);
    }
    for (const r of opts.records) {
      if (sameName(r.name, name) && !values.includes(r.value)) {
        missing.push({ server: formatServer(server), name, value: r.value, ...(reason ? { reason } : {}) });
      }
    }
  }
  return missing;
}

function describe(e: unknown): string {
  if (e instanceof DnsError) return e.detail ? `${e.code}: ${e.detail}` : e.code;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The TXT values `server` itself serves at `name` (RD=0), following CNAMEs inside the answer.
 * NXDOMAIN and NODATA give no values; other rcodes (REFUSED, SERVFAIL…) throw Error.
 */
export async function lookupTxt(server: DnsServer, name: string, timeoutMs: number): Promise<string[]> {
  const answer = await query(server, name, RRType.TXT, { timeoutMs, attempts: 2, recursionDesired: false });
  if (answer.rcode !== 0 && answer.rcode !== 3) throw new Error(rcodeName(answer.rcode));
  const owners = [normalizeName(name)];
  for (const rr of answer.answers) {
    if (rr.data.kind === 'CNAME' && owners.some((o) => sameName(o, rr.name))) owners.push(normalizeName(rr.data.target));
  }
  return answer.answers.flatMap((rr) => {
    const value = txtValue(rr.data);
    return value !== undefined && owners.some((o) => sameName(o, rr.name)) ? [value] : [];
  });
}
