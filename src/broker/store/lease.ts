/**
 * Which orders a worker may take, decided the same way by every store: `processing`, with no
 * live lease, `notBefore` passed; renewals first, then the oldest finalized. Pure.
 */
import type { BrokerOrder } from '../types.ts';

/** Whether the order's lease is held by someone at `now`. */
export function leaseLive(order: BrokerOrder, now: Date): boolean {
  return order.lease !== null && Date.parse(order.lease.until) > now.getTime();
}

/** Whether a worker may take the order at `now`. */
export function claimable(order: BrokerOrder, now: Date): boolean {
  return order.status === 'processing' && !leaseLive(order, now) && (order.notBefore === null || Date.parse(order.notBefore) <= now.getTime());
}

/** Queue order: renewals first, then by `finalizedAt`, then by id. */
export function queueOrder(a: BrokerOrder, b: BrokerOrder): number {
  if (a.renewal !== b.renewal) return a.renewal ? -1 : 1;
  return cmp(a.finalizedAt ?? '', b.finalizedAt ?? '') || cmp(a.id, b.id);
}

/** Byte order (what PostgreSQL's COLLATE "C" gives), not locale order. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Up to `limit` orders to take now, in queue order (the same objects, for the caller to lease). */
export function queueHead<T extends BrokerOrder>(orders: readonly T[], now: Date, limit: number): T[] {
  return orders.filter((o) => claimable(o, now)).sort(queueOrder).slice(0, Math.max(0, limit));
}
