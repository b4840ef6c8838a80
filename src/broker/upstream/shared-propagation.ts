/**
 * One propagation wait for the records of many orders: per set of servers, rounds of checks of
 * every record still awaited. Each order is answered on its own: as soon as all its records
 * are served, or with a PropagationError naming only its own missing records once its own
 * timeout has passed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PropagationError, type MissingRecord } from '../../dns/errors.ts';
import { normalizeName } from '../../dns/names.ts';
import { formatServer } from '../../dns/transport.ts';
import { waitForPropagation, type PropagationOptions } from '../../dns/zone.ts';

/** One order's wait, as dns01.ts asked for it, with the promise to settle. */
export interface PropagationWaiter extends PropagationOptions {
  resolve(): void;
  reject(error: Error): void;
}

const key = (name: string, value: string) => `${normalizeName(name)} ${value}`;

/**
 * Waits for all `waiters`, grouped by the servers they check; resolves with the number of
 * shared waits (groups) once every waiter is settled. Never throws.
 */
export async function waitTogether(waiters: readonly PropagationWaiter[], intervalMs: number): Promise<number> {
  const groups = new Map<string, PropagationWaiter[]>();
  for (const w of waiters) {
    const g = w.servers.map(formatServer).sort().join(' ');
    groups.set(g, [...(groups.get(g) ?? []), w]);
  }
  await Promise.all([...groups.values()].map((g) => waitGroup(g, intervalMs)));
  return groups.size;
}

async function waitGroup(waiters: PropagationWaiter[], intervalMs: number): Promise<void> {
  const started = Date.now();
  let pending = waiters;
  const { servers, lookupTxt, queryTimeoutMs } = waiters[0];
  for (;;) {
    const records = [...new Map(pending.flatMap((w) => w.records).map((r) => [key(r.name, r.value), r])).values()];
    const missing = await check(records, servers, lookupTxt, queryTimeoutMs);
    const elapsed = Date.now() - started;
    const still: PropagationWaiter[] = [];
    for (const w of pending) {
      const mine = new Set(w.records.map((r) => key(r.name, r.value)));
      const lacking = missing.filter((m) => mine.has(key(m.name, m.value)));
      if (lacking.length === 0) w.resolve();
      else if (elapsed >= w.timeoutMs) w.reject(new PropagationError(lacking, w.timeoutMs));
      else still.push(w);
    }
    pending = still;
    if (pending.length === 0) return;
    const nextDeadline = Math.min(...pending.map((w) => w.timeoutMs)) - elapsed;
    await sleep(Math.max(0, Math.min(intervalMs, nextDeadline)));
  }
}

/** One round of checks: what is still missing where (waitForPropagation with no time to wait). */
async function check(
  records: PropagationOptions['records'],
  servers: PropagationOptions['servers'],
  lookupTxt: PropagationOptions['lookupTxt'],
  queryTimeoutMs: number | undefined,
): Promise<MissingRecord[]> {
  try {
    await waitForPropagation({ records, servers, timeoutMs: 0, intervalMs: 0, lookupTxt, queryTimeoutMs });
    return [];
  } catch (e) {
    if (e instanceof PropagationError) return e.missing;
    return records.flatMap((r) => servers.map((s) => ({ server: formatServer(s), name: r.name, value: r.value, reason: (e as Error).message })));
  }
}
