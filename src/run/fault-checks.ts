import type { PlanItem } from '../plan/build-plan.ts';
import type { PublishBlockedError } from '../store/publish.ts';
import { checkTargets } from '../store/target-check.ts';

/**
 * Why an interrupted publish of this item cannot be completed (a directory where its key or
 * certificate goes), or null. Such an item is not ordered again: its new files wait, staged,
 * until the path is fixed, and the next run then completes the publish.
 */
export function blockedProblem(item: PlanItem, blocked: readonly PublishBlockedError[]): string | null {
  const mine = new Set([item.paths.key, item.paths.csr, item.paths.cert]);
  const hit = blocked.find((b) => b.targets.some((t) => mine.has(t)));
  return hit ? `an interrupted update cannot be completed: ${hit.message}; the next run completes it once that is fixed` : null;
}

/**
 * Why this item's files could not be written once its certificate arrived, checked before any
 * order so that such a fault costs no order: every target (key, CSR, certificate) must be
 * absent or a regular file in a writable directory. Null when it can be published.
 */
export async function preOrderProblem(item: PlanItem): Promise<string | null> {
  const problem = await checkTargets([item.paths.key, item.paths.csr, item.paths.cert]);
  return problem ? `${problem}; no certificate was ordered` : null;
}

/** Publishes a run found it cannot complete (see store/publish.ts `recoverPublishes`). */
export type BlockedPublishes = readonly PublishBlockedError[];

/**
 * The due items that may be ordered: those a blocked publish or an unwritable target would
 * only waste an order on are failed through `fail` (code `blocked`), before any order and on
 * every run until fixed.
 */
export async function orderable(due: readonly PlanItem[], blocked: BlockedPublishes, fail: (item: PlanItem, err: Error) => void): Promise<PlanItem[]> {
  const out: PlanItem[] = [];
  for (const item of due) {
    const problem = blockedProblem(item, blocked) ?? (await preOrderProblem(item));
    if (problem) fail(item, Object.assign(new Error(problem), { code: 'blocked' }));
    else out.push(item);
  }
  return out;
}
