/**
 * What stands between a due certificate and its order: its failure back-off and the CA's rate
 * limits. Pure: records, the budget planner and `now` are passed in.
 */
import type { CertRecord } from '../store/cert-state.ts';
import { currentFailure, orderBlockedUntil } from './backoff.ts';
import type { BudgetPlanner } from './budget.ts';
import { renewalExempt } from './budget.ts';
import { isDue, type PlanItem } from './build-plan.ts';

/** The account an order would go through: the `replaces` field needs the same directory and account. */
export interface Account {
  directory: string;
  /** JWK thumbprint of the account key. */
  thumbprint: string;
}

/**
 * The CertID a renewal names in `replaces`: the certificate on disk's, when certfleet issued it
 * through this directory and account (for another one the CA would refuse it).
 */
export function replacesFor(item: PlanItem, record: CertRecord, account: Account): string | null {
  const certId = item.cert?.certId;
  const issued = record.issued;
  if (item.decision.action !== 'renew' || !certId || !issued) return null;
  return issued.certId === certId && issued.directory === account.directory && issued.account === account.thumbprint ? certId : null;
}

/** Whether the CA counts this renewal against its limits (see budget.ts). */
export function exemptFromBudget(item: PlanItem, replaces: string | null, now: Date): boolean {
  const cert = item.cert;
  const same = cert !== null && cert.names.length === item.identifiers.length && item.identifiers.every((n) => cert.names.includes(n));
  const window = item.ari?.start && item.ari.end ? { start: item.ari.start, end: item.ari.end } : null;
  return renewalExempt({ replaces: replaces !== null, window, sameIdentifiers: same, previousNotBefore: cert?.notBefore ?? null, now });
}

/** What {@link holdDue} needs besides the items. */
export interface GateOptions {
  now: Date;
  /** `--retry` or `--force`: the back-off does not hold (a rateLimited Retry-After still does). */
  retry: boolean;
  record: (item: PlanItem) => CertRecord;
  /** The failure context of an item: its line and the config it is ordered under. */
  context: (item: PlanItem) => string;
  /** Null when no budget applies (a CA other than Let's Encrypt, or `rateBudget: no`). */
  budget: { planner: BudgetPlanner; account: Account; domains: (item: PlanItem) => string[] } | null;
}

/**
 * Sets `hold` on every due item that must wait: a failure back-off first, then the rate budget,
 * reserved renewals before new certificates (a certificate in use matters more than a new one).
 * Returns the items in their original order.
 */
export function holdDue(items: readonly PlanItem[], opts: GateOptions): PlanItem[] {
  const held = new Map<PlanItem, PlanItem>();
  const due = items.filter(isDue);
  const open: PlanItem[] = [];
  for (const item of due) {
    const failure = currentFailure(opts.record(item).failure, opts.context(item));
    const until = orderBlockedUntil(failure, opts.now, opts.retry);
    if (failure && until) {
      const rateLimited = failure.rateLimitedUntil !== null && Date.parse(failure.rateLimitedUntil) >= until.getTime();
      held.set(item, { ...item, hold: { kind: 'backoff', until, failures: failure.count, lastError: failure.error, rateLimited } });
    } else open.push(item);
  }
  if (opts.budget) {
    const { planner, account, domains } = opts.budget;
    const ordered = [...open.filter((i) => i.decision.action === 'renew'), ...open.filter((i) => i.decision.action !== 'renew')];
    for (const item of ordered) {
      const exempt = exemptFromBudget(item, replacesFor(item, opts.record(item), account), opts.now);
      const slot = planner.reserve({ account: account.thumbprint, domains: domains(item), exempt });
      if (slot) held.set(item, { ...item, hold: { kind: 'deferred', until: slot } });
    }
  }
  return items.map((i) => held.get(i) ?? i);
}
