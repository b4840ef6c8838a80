import type { PlanItem } from '../plan/build-plan.ts';
import type { Logger } from '../report/logger.ts';
import type { ItemResult } from '../report/summary.ts';
import { placeLinks } from '../store/links.ts';

/** The key of an item's result in a run: its certificate file, the same whatever holds the item. */
export function resultKey(item: PlanItem): string {
  return item.paths.cert;
}

/**
 * What a run does about damage before asking the CA for anything: a certificate whose decision
 * is `fail` (something certfleet must not replace is in the way) is failed with what to do; the
 * per-name links found wrong are repaired (links.ts) and reported as changes, and the
 * certificate's deployment is recorded through `changed`, since what a server opens through
 * the link is now another file. A repair that fails fails that certificate, never the others.
 */
export async function repairStep(
  items: readonly PlanItem[],
  results: Map<string, ItemResult>,
  stateDir: string,
  log: Logger,
  changed: (item: PlanItem) => Promise<void>,
): Promise<void> {
  for (const item of items) {
    const r = results.get(resultKey(item))!;
    const label = `${item.paths.base} [${item.keyType}]`;
    if (item.decision.action === 'fail') {
      log.error(`${label}: ${item.decision.reason}`);
      results.set(resultKey(item), { ...r, status: 'failed', error: item.decision.reason, errorType: 'blocked' });
      continue;
    }
    if (item.repairs.length === 0) continue;
    try {
      const { changes, warnings } = await placeLinks(item.repairs, stateDir);
      for (const w of warnings) log.warn(`${label}: ${w}`);
      for (const c of changes) log.change(`${label}: ${c}`);
      results.set(resultKey(item), { ...r, repaired: changes, warnings: [...r.warnings, ...warnings] });
      if (changes.length) await changed(item);
    } catch (err) {
      const message = `could not repair its per-name links: ${err instanceof Error ? err.message : String(err)}`;
      log.error(`${label}: ${message}`);
      results.set(resultKey(item), { ...r, status: 'failed', error: message, errorType: 'links' });
    }
  }
}
