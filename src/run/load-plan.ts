import type { Config } from '../config/load.ts';
import type { DomainLine } from '../config/domains.ts';
import { isDue, keySpecFor, namingFor, planItem, planTargets, stateKey, type PlanItem } from '../plan/build-plan.ts';
import type { Observed } from '../plan/renewal.ts';
import { CertStateStore } from '../store/cert-state.ts';
import { modeDirs, type CertPaths, type KeyType, type Mode } from '../store/layout.ts';
import type { FactsCache } from '../store/facts-cache.ts';
import { ownLinks } from '../store/link-owners.ts';
import { vouchForLinks, type LinkVouch } from '../store/link-vouch.ts';
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

/** What {@link observeAll} found, and the cache's word on the per-name links (see link-vouch.ts). */
export interface Observations {
  observations: Observation[];
  links: LinkVouch;
  /** True when every line was looked at (no `--only`): only then may the links' soundness be remembered. */
  complete: boolean;
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

const NO_LINKS: LinkVouch = { vouched: true, remember: () => {} };

/**
 * Load: observes (through `cache`) the key and certificate of every selected certificate, the
 * whole chain of its certificate file and, unless the cache vouches for all of them, its per-name
 * links. Who owns a link depends on every line, so all lines' paths are resolved. Reads files
 * only; `now` dates the links' vouching.
 */
export async function observeAll(config: Config, mode: Mode, cache: FactsCache, now: Date, only: readonly string[] = []): Promise<Observations> {
  const { settings } = config;
  const naming = namingFor(settings, mode);
  const targets = planTargets(config.domains);
  const owned = ownLinks(await mapLimit(targets, 16, async ({ line, keyType }) => ({ keyType, paths: await resolvePaths(line.names, keyType, naming) })));
  const dirs = modeDirs(naming);
  const basis = JSON.stringify([naming, config.domains.map((l) => l.names)]);
  const links = owned.some((p) => p.links.length > 0) ? vouchForLinks(cache, [dirs.key, dirs.cert], basis, now.getTime()) : NO_LINKS;
  const selected = new Set(selectLines(config.domains, only));
  const picked = targets.map((t, i) => ({ ...t, paths: owned[i] })).filter((t) => selected.has(t.line));
  const observations = await mapLimit(picked, 16, async (t) => ({ ...t, obs: await observeKeyAndCert(t.paths, keySpecFor(settings, t.keyType), cache, !links.vouched) }));
  return { observations, links, complete: only.length === 0 };
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
    if (!isDue(item) || item.decision.newKey) return item;
    return planItem(line, keyType, paths, { ...obs, csr: await observeCsr(paths) }, settings, now, record, ari, force);
  });
}

/**
 * Lets the cache vouch for the per-name links from now on when every line was looked at, nothing
 * is due and no link is wrong (then every link was read and found sound).
 */
export function settleLinks(seen: Observations, items: readonly PlanItem[]): void {
  if (seen.complete && items.every((i) => i.decision.action === 'skip' && i.repairs.length === 0)) seen.links.remember();
}

/** Load → decide for `plan` and the dry run: no network, nothing written but the cache's vouching (saved by runs only). */
export async function loadPlan(config: Config, mode: Mode, now: Date, cache: FactsCache, state = CertStateStore.empty(), selection: Selection = { only: [], force: false }): Promise<PlanItem[]> {
  const seen = await observeAll(config, mode, cache, now, selection.only);
  const items = await decideAll(seen.observations, config, mode, now, state, selection.force);
  settleLinks(seen, items);
  return items;
}
