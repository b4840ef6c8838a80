import type { Config } from '../config/load.ts';
import type { DomainLine } from '../config/domains.ts';
import { keySpecFor, namingFor, planItem, planTargets, stateKey, type PlanItem } from '../plan/build-plan.ts';
import type { Observed } from '../plan/renewal.ts';
import { CertStateStore } from '../store/cert-state.ts';
import type { CertPaths, KeyType, Mode } from '../store/layout.ts';
import type { FactsCache } from '../store/facts-cache.ts';
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

/** What was found on disk for one (line, key type). */
export interface Observation {
  line: DomainLine;
  keyType: KeyType;
  paths: CertPaths;
  obs: Observed;
}

/** `--only` and `--force`: which lines a run looks at, and whether they renew whatever the rules say. */
export interface Selection {
  /** Names (lowercase); a line is selected when it holds one of them. Empty: every line. */
  only: string[];
  force: boolean;
}

/** The lines `only` selects (all when empty). */
export function selectLines(domains: readonly DomainLine[], only: readonly string[]): DomainLine[] {
  if (only.length === 0) return [...domains];
  return domains.filter((line) => line.names.some((n) => only.includes(n.toLowerCase())));
}

/** Load: observes (through `cache`) the key and certificate of every selected certificate. Reads files only. */
export async function observeAll(config: Config, mode: Mode, cache: FactsCache, only: readonly string[] = []): Promise<Observation[]> {
  const { settings } = config;
  const naming = namingFor(settings, mode);
  return mapLimit(planTargets(selectLines(config.domains, only)), 16, async ({ line, keyType }) => {
    const paths = await resolvePaths(line.names, keyType, naming);
    return { line, keyType, paths, obs: await observeKeyAndCert(paths, keySpecFor(settings, keyType), cache) };
  });
}

/**
 * Decide: each observation against its durable record (ARI window) and `now`. A CSR is read for
 * due items alone (it never changes whether an item is due, only whether a new CSR is made).
 * `force` makes every item due.
 */
export async function decideAll(observations: readonly Observation[], config: Config, mode: Mode, now: Date, state: CertStateStore, force = false): Promise<PlanItem[]> {
  const { settings } = config;
  const ari = settings.acme[mode].ari;
  return mapLimit(observations, 16, async ({ line, keyType, paths, obs }) => {
    const record = state.get(stateKey(paths));
    const item = planItem(line, keyType, paths, obs, settings, now, record, ari, force);
    if (item.decision.action === 'skip' || item.decision.newKey) return item;
    return planItem(line, keyType, paths, { ...obs, csr: await observeCsr(paths) }, settings, now, record, ari, force);
  });
}

/** Load → decide for `plan` and the dry run: no network, nothing written. */
export async function loadPlan(config: Config, mode: Mode, now: Date, cache: FactsCache, state = CertStateStore.empty(), selection: Selection = { only: [], force: false }): Promise<PlanItem[]> {
  return decideAll(await observeAll(config, mode, cache, selection.only), config, mode, now, state, selection.force);
}
