/**
 * The rate-limit budget: paces new orders and new certificates under the CA's limits from the
 * local history, so work past a limit is deferred to its slot instead of earning a rateLimited
 * answer. Let's Encrypt's two limits that a fleet of certificates meets first are modelled: new
 * orders per account per 3 hours, and new certificates per registered domain per 7 days.
 * Renewals Let's Encrypt does not count against them (an ARI-window renewal naming what it
 * `replaces`, and a renewal of an identifier set issued in the last 120 days) are not counted.
 * Pure: `now` and the registered-domain function are passed in.
 */
import type { Ledger } from '../store/cert-state.ts';

const HOUR = 3_600_000;
export const ORDER_WINDOW_MS = 3 * HOUR;
export const CERT_WINDOW_MS = 7 * 24 * HOUR;
/** A renewal of the same identifier set within this long of its last issuance is a renewal to the CA. */
export const RENEWAL_LOOKBACK_MS = 120 * 24 * HOUR;

/** The two figures (Let's Encrypt's by default, settable for an override). */
export interface BudgetLimits {
  ordersPer3Hours: number;
  certsPerDomainPerWeek: number;
}

/** One order the run wants to place. */
export interface OrderNeed {
  account: string;
  /** Registered domains of its identifiers (eTLD+1), deduplicated. */
  domains: string[];
  /** Not counted by the CA (see the file comment). */
  exempt: boolean;
}

/**
 * The moment the `limit`-th newest of `times` leaves a window of `windowMs`, letting one more
 * in; null when fewer than `limit` are inside the window at `now`.
 */
function slotAfter(times: number[], limit: number, windowMs: number, now: number): number | null {
  const inside = times.filter((t) => t > now - windowMs).sort((a, b) => a - b);
  if (inside.length < limit) return null;
  return inside[inside.length - limit] + windowMs;
}

/**
 * Reserves slots for a run's orders in turn. Each reservation counts against later ones, so a
 * queue of deferred orders gets increasing slots. The ledger passed in is not changed.
 */
export class BudgetPlanner {
  private readonly orders: { at: number; account: string }[];
  private readonly certs: { at: number; domains: string[] }[];

  constructor(ledger: Ledger, private readonly limits: BudgetLimits, private readonly now: Date) {
    this.orders = ledger.orders.map((o) => ({ at: Date.parse(o.at), account: o.account }));
    this.certs = ledger.certs.map((c) => ({ at: Date.parse(c.at), domains: c.domains }));
  }

  /** Null when the order may be placed now (its place is taken); else the moment its slot comes. */
  reserve(need: OrderNeed): Date | null {
    if (need.exempt) return null;
    let at = this.now.getTime();
    // A slot later than now may itself be full: step forward until every limit has room.
    for (let i = 0; i < 1000; i++) {
      const orderSlot = slotAfter(this.orders.filter((o) => o.account === need.account).map((o) => o.at), this.limits.ordersPer3Hours, ORDER_WINDOW_MS, at);
      const certSlots = need.domains.map((d) => slotAfter(this.certs.filter((c) => c.domains.includes(d)).map((c) => c.at), this.limits.certsPerDomainPerWeek, CERT_WINDOW_MS, at));
      const next = Math.max(...[orderSlot, ...certSlots].map((s) => s ?? 0));
      if (next <= at) break;
      at = next;
    }
    this.orders.push({ at, account: need.account });
    this.certs.push({ at, domains: need.domains });
    return at > this.now.getTime() ? new Date(at) : null;
  }
}

/**
 * Whether the CA counts a renewal against the two limits: not when it names the certificate it
 * `replaces` and is placed inside that certificate's ARI window, nor when the certificate it
 * renews has the same identifiers and was issued less than 120 days ago.
 */
export function renewalExempt(opts: {
  replaces: boolean;
  window: { start: Date; end: Date } | null;
  sameIdentifiers: boolean;
  previousNotBefore: Date | null;
  now: Date;
}): boolean {
  const t = opts.now.getTime();
  if (opts.replaces && opts.window && opts.window.start.getTime() <= t && t < opts.window.end.getTime()) return true;
  return opts.sameIdentifiers && opts.previousNotBefore !== null && t - opts.previousNotBefore.getTime() < RENEWAL_LOOKBACK_MS;
}

/** The registered domains (eTLD+1) of identifiers, through the Public Suffix List function given. */
export function registeredDomains(identifiers: readonly string[], registered: (name: string) => string | null): string[] {
  return [...new Set(identifiers.map((id) => { const name = id.replace(/^\*\./, ''); return registered(name) ?? name; }))];
}
