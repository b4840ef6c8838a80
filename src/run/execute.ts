import { FactsCache } from '../store/facts-cache.ts';
import { isDue, keySpecFor, stateKey, type PlanItem } from '../plan/build-plan.ts';
import type { ItemResult, RunSummary } from '../report/summary.ts';
import { CertStateStore } from '../store/cert-state.ts';
import { modeDirs } from '../store/layout.ts';
import { acquireRunLock, LockUnwritableError } from '../store/lock.ts';
import { observeKeyAndCert } from '../store/observe.ts';
import { deployPending, owedFor, recordChanged, recordOwed, type DeployContext } from './deploy-step.ts';
import { readOnlyRun } from './read-only-run.ts';
import { recoverAtStart } from './run-start.ts';
import { decideAll, mapLimit, observeAll, settleLinks } from './load-plan.ts';
import { directoryOnce, pollTargets } from './renewal-step.ts';
import { prepareModeTree } from './mode-tree.ts';
import { reportDecisionWarnings } from './decision-warnings.ts';
import { repairStep, resultKey } from './repair-step.ts';
import type { RunOptions } from './run-options.ts';

export type { RunOptions } from './run-options.ts';

/** The state-store record keys of the config's certificates (records of removed lines are dropped). */
function keysOf(items: readonly PlanItem[]): Set<string> {
  return new Set(items.map((i) => stateKey(i.paths)));
}

const WEEK = 7 * 86_400_000;

/**
 * One run: lock the config dir, finish any interrupted publish, observe, ask the CA's
 * renewalInfo where an answer is due, decide, hold what must wait (back-off, rate budget),
 * issue the rest (each certificate on its own: one failure never stops the others), then run
 * the deployments owed, new and left over. Network and ACME code are used only when a poll or
 * an order is due, so a scheduled run with nothing to do makes no network call.
 * Throws only for what stops the whole run (lock busy, unwritable directories, a profile the CA
 * does not offer).
 */
export async function executeRun(opts: RunOptions): Promise<RunSummary> {
  const { settings } = opts.config;
  const selection = opts.selection ?? { only: [], force: false };
  const dirs = modeDirs({ configDir: settings.configDir, mode: opts.mode, rsaTag: settings.rsaTag, curveTag: settings.curveTag });
  let lock;
  try {
    lock = await acquireRunLock(settings.configDir, opts.lockWaitMs);
  } catch (err) {
    // A conf dir certfleet may not write (read-only mount, another owner) is fine while nothing is due.
    if (err instanceof LockUnwritableError) return readOnlyRun(opts, dirs, err);
    throw err;
  }
  try {
    await prepareModeTree(settings, dirs, opts.log);

    const deploy: DeployContext = {
      actions: opts.config.actions,
      domains: opts.config.domains,
      configDir: settings.configDir,
      mode: opts.mode,
      timeoutMs: settings.actionTimeoutSeconds * 1000,
      log: opts.log,
      now: opts.now,
      stateDir: dirs.state,
      signal: opts.signal,
    };
    const { deployState, registry, blocked, artifacts } = await recoverAtStart(dirs, deploy, settings, opts.log, opts.now);
    deploy.registry = registry;
    const cache = await FactsCache.load(FactsCache.fileIn(dirs.state));
    if (cache.discarded) opts.log.info(`facts cache ${FactsCache.fileIn(dirs.state)} discarded (${cache.discarded}); rebuilt from the files`);
    const state = await CertStateStore.load(CertStateStore.fileIn(dirs.state));
    if (state.problem) opts.log.warn(state.problem);
    // Observed and decided after taking the lock: another run may have just renewed everything.
    const seen = await observeAll(opts.config, opts.mode, cache, opts.now(), selection.only);
    const directory = directoryOnce(opts.directoryUrl, 15_000, (m) => opts.log.info(m));
    const polls = pollTargets(seen.observations, state, settings.acme[opts.mode].ari, opts.now());
    if (polls.length > 0) {
      const { pollRenewalInfo } = await import('./ari-poll.ts');
      await pollRenewalInfo(polls, await directory(), state, { now: opts.now(), random: opts.random ?? Math.random, timeoutMs: 15_000, info: (m) => opts.log.info(m) });
    }
    let items = await decideAll(seen.observations, opts.config, opts.mode, opts.now(), state, selection.force);
    settleLinks(seen, items);
    // Decision warnings would repeat every run: mailed by cron once per change, not hourly.
    await reportDecisionWarnings(items, dirs.state, opts.log);
    const results = new Map<string, ItemResult>(
      items.map((item) => [resultKey(item), { item, status: 'unchanged', notAfter: item.decision.notAfter, error: null, errorType: null, warnings: [], repaired: [] }]),
    );
    // Damage that needs no CA first: blocked paths fail, wrong links are put right.
    await repairStep(items, results, dirs.state, opts.log, (item) => recordChanged(deployState, item, deploy));
    if (items.some(isDue)) {
      const { issueDue } = await import('./issue-step.ts');
      items = await issueDue(items, results, { ...opts, state, stateDir: dirs.state, directory, retry: Boolean(opts.retry || selection.force),
        registry, blocked, artifacts, owed: (item) => owedFor(item, deploy), installed: (owed) => recordOwed(deployState, owed as ReturnType<typeof owedFor>, deploy),
      });
      // Learn the new files' facts now, so the next run finds them cached and writes nothing.
      const changed = items.filter((i) => ['issued', 'renewed'].includes(results.get(resultKey(i))!.status));
      await mapLimit(changed, 16, (item) => observeKeyAndCert(item.paths, keySpecFor(settings, item.keyType), cache));
    }
    await cache.save().catch((err: Error) => opts.log.warn(`could not save the facts cache: ${err.message}`));
    // With --only, the records of lines not looked at are kept.
    await state.save(selection.only.length ? null : keysOf(items), new Date(opts.now().getTime() - WEEK));
    // An interrupted run deploys nothing more: what is owed stays owed for the next run.
    const deployments = opts.signal?.aborted ? [] : await deployPending(deployState, deploy);
    // A due item the gate held is `waiting` (failure back-off) or `deferred` (rate budget).
    const summaryOf = (item: PlanItem): ItemResult => {
      const r = results.get(resultKey(item))!;
      const held = r.status === 'unchanged' && item.hold ? (item.hold.kind === 'backoff' ? 'waiting' : 'deferred') : r.status;
      return { ...r, item, status: held };
    };
    return { mode: opts.mode, directory: opts.directoryUrl, at: opts.now(), results: items.map(summaryOf), deployments };
  } finally {
    await lock.release();
  }
}
