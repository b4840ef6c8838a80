/**
 * The rate budget for a batch of claimed device orders (src/plan/budget.ts): each order in queue
 * order (renewals first) either may be placed upstream now, or gets the moment its slot comes.
 * Reservations count against the later orders of the same batch, so a burst of new devices
 * never goes past the CA's limits. Pure: the ledger, `now` and the registered-domain function
 * are passed in.
 */
import { BudgetPlanner, registeredDomains, renewalExempt, type BudgetLimits } from '../../plan/budget.ts';
import type { Ledger } from '../../store/cert-state.ts';
import type { BrokerCertificate, BrokerOrder, LedgerEntry } from '../types.ts';

/** One order's place: `at` null means now; `entry` is what to append to the ledger before ordering (null: counted before). */
export interface BudgetSlot {
  order: BrokerOrder;
  at: Date | null;
  entry: LedgerEntry | null;
}

/**
 * The store's ledger entries as the planner reads them. Exempt renewals count nowhere (Let's
 * Encrypt exempts renewals of the same names from both limits). Every other upstream order
 * counts per account, and per domain once per device order (its latest placing), since an order
 * placed again after a crash still yields one certificate.
 */
export function toLedger(entries: readonly LedgerEntry[]): Ledger {
  const lastOf = new Map<string, LedgerEntry>();
  for (const e of entries) if (e.order) lastOf.set(e.order, e);
  return {
    orders: entries.filter((e) => !e.exempt).map((e) => ({ at: e.at, account: e.account })),
    certs: entries.filter((e) => !e.exempt && (!e.order || lastOf.get(e.order) === e)).map((e) => ({ at: e.at, domains: e.domains })),
  };
}

/**
 * Whether the CA will not count the order against its certificate limits: a renewal naming the
 * brokered certificate it `replaces`, for the same names, issued less than 120 days ago.
 */
export function isExempt(order: BrokerOrder, replaced: BrokerCertificate | null, now: Date): boolean {
  if (!order.replaces || !replaced) return false;
  const same = [...replaced.names].sort().join(' ') === [...order.identifiers].sort().join(' ');
  return renewalExempt({ replaces: true, window: null, sameIdentifiers: same, previousNotBefore: new Date(replaced.notBefore), now });
}

/**
 * Slots for `orders` (in the order given), or all at once when `limits` is null (`rateBudget: no`).
 * `replaced(order)` is the brokered certificate the order replaces, if any.
 */
export function reserveSlots(opts: {
  orders: readonly BrokerOrder[];
  ledger: readonly LedgerEntry[];
  limits: BudgetLimits | null;
  account: string;
  now: Date;
  registered: (name: string) => string | null;
  replaced: (order: BrokerOrder) => BrokerCertificate | null;
}): BudgetSlot[] {
  const planner = opts.limits ? new BudgetPlanner(toLedger(opts.ledger), opts.limits, opts.now) : null;
  return opts.orders.map((order) => {
    const domains = registeredDomains(order.identifiers, opts.registered);
    const exempt = isExempt(order, opts.replaced(order), opts.now);
    const at = planner ? planner.reserve({ account: opts.account, domains, exempt }) : null;
    return { order, at, entry: { at: opts.now.toISOString(), account: opts.account, domains, exempt, order: order.id } };
  });
}
