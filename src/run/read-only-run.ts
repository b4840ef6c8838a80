import { readdirSync } from 'node:fs';
import type { ItemResult, RunSummary } from '../report/summary.ts';
import { FactsCache } from '../store/facts-cache.ts';
import type { LockUnwritableError } from '../store/lock.ts';
import { DeployState } from '../actions/deploy-state.ts';
import { loadPlan } from './load-plan.ts';
import type { Config } from '../config/load.ts';
import type { Logger } from '../report/logger.ts';
import type { Mode } from '../store/layout.ts';

/** What a read-only run needs of the run's options (see execute.ts). */
export interface ReadOnlyOptions {
  config: Config;
  mode: Mode;
  directoryUrl: string;
  now: () => Date;
  log: Logger;
}

/**
 * A run in a conf dir certfleet cannot write (the lock cannot be created): a scheduled run with
 * nothing to do must still succeed there, so it decides without writing anything. When a
 * certificate is due, a deployment is owed or an interrupted update waits, it throws the lock's
 * error, which names the directory, with what needs doing.
 */
export async function readOnlyRun(opts: ReadOnlyOptions, dirs: { state: string }, cause: LockUnwritableError): Promise<RunSummary> {
  const cache = await FactsCache.load(FactsCache.fileIn(dirs.state));
  const items = await loadPlan(opts.config, opts.mode, opts.now(), cache);
  const due = items.filter((i) => i.decision.action !== 'skip');
  const owed = (await DeployState.load(dirs.state)).pending();
  let journals = 0;
  try {
    journals = readdirSync(dirs.state).filter((e) => e.startsWith('publish-')).length;
  } catch {
    // no state dir: nothing interrupted
  }
  if (due.length > 0 || owed.length > 0 || journals > 0) {
    const what = [due.length && `${due.length} certificate(s) due`, owed.length && `${owed.length} deployment(s) owed`, journals && 'an interrupted update'].filter(Boolean).join(', ');
    throw new Error(`${cause.message}; ${what}, which needs writing there`, { cause });
  }
  for (const item of items) for (const w of item.decision.warnings) opts.log.info(`warning: ${item.paths.base} [${item.keyType}]: ${w}`);
  const results: ItemResult[] = items.map((item) => ({ item, status: 'unchanged', notAfter: item.decision.notAfter, error: null, errorType: null, warnings: [], repaired: [] }));
  return { mode: opts.mode, directory: opts.directoryUrl, at: opts.now(), results, deployments: [] };
}
