import type { Config } from '../config/load.ts';
import { isDue, keySpecFor, namingFor, planItem, planTargets, type PlanItem } from '../plan/build-plan.ts';
import { decideRenewal } from '../plan/renewal.ts';
import { modeDirs, type Mode } from '../store/layout.ts';
import { vouchForLinks } from '../store/link-vouch.ts';
import type { FactsCache } from '../store/facts-cache.ts';
import { ownLinks } from '../store/link-owners.ts';
import { observeCsr, observeKeyAndCert, resolvePaths } from '../store/observe.ts';

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const NO_LINKS = { vouched: true, remember: () => {} };

/**
 * Load → decide: observes (through `cache`) every certificate of the config on disk and decides each. Reads
 * keys and certificates only; a CSR is read for due items alone (it never changes whether an
 * item is due, only whether a new CSR is made). Per-name links are read unless the cache vouches
 * for all of them (link-vouch.ts); `now` also dates that vouching.
 */
export async function loadPlan(config: Config, mode: Mode, now: Date, cache: FactsCache): Promise<PlanItem[]> {
  const { settings } = config;
  const naming = namingFor(settings, mode);
  const targets = planTargets(config.domains);
  // Every certificate's paths first: who owns a per-name link depends on all lines.
  const owned = ownLinks(await mapLimit(targets, 16, async ({ line, keyType }) => ({ keyType, paths: await resolvePaths(line.names, keyType, naming) })));
  const dirs = modeDirs(naming);
  const basis = JSON.stringify([naming, config.domains.map((l) => l.names)]);
  const links = owned.some((p) => p.links.length > 0) ? vouchForLinks(cache, [dirs.key, dirs.cert], basis, now.getTime()) : NO_LINKS;
  const items = await mapLimit(targets, 16, async ({ line, keyType }, i) => {
    const paths = owned[i];
    const obs = await observeKeyAndCert(paths, keySpecFor(settings, keyType), cache, !links.vouched);
    let item = planItem(line, keyType, paths, obs, settings, now);
    if (isDue(item) && !item.decision.newKey) {
      obs.csr = await observeCsr(paths);
      item = { ...item, decision: decideRenewal(item.identifiers, obs, settings, now) };
    }
    return item;
  });
  // Nothing due and no link wrong: every link was read (none is skipped for a missing target).
  if (items.every((i) => i.decision.action === 'skip' && i.repairs.length === 0)) links.remember();
  return items;
}
