import { FactsCache } from '../store/facts-cache.ts';
import type { Config } from '../config/load.ts';
import { dropDirSolver } from '../challenge/http01.ts';
import { isDue, keySpecFor, type PlanItem } from '../plan/build-plan.ts';
import type { Logger } from '../report/logger.ts';
import type { ItemResult, RunSummary } from '../report/summary.ts';
import { sweepTemps } from '../store/atomic.ts';
import { modeDirs, type Mode } from '../store/layout.ts';
import { acquireRunLock } from '../store/lock.ts';
import { recoverPublishes } from '../store/publish.ts';
import { observeKeyAndCert } from '../store/observe.ts';
import { DeployState } from '../actions/deploy-state.ts';
import { deployPending, recordChanged, type DeployContext } from './deploy-step.ts';
import { loadPlan, mapLimit } from './load-plan.ts';
import { NameLocks, withPrepare } from './prepare-step.ts';
import { prepareModeTree } from './mode-tree.ts';
import { buildBeforeValidate } from './validate-hook.ts';
import { reportDecisionWarnings } from './decision-warnings.ts';
import { repairStep } from './repair-step.ts';

/** Everything one `run` needs; effects go through these. */
export interface RunOptions {
  config: Config;
  mode: Mode;
  directoryUrl: string;
  accountKeyPem: string;
  parallel: number;
  now: () => Date;
  log: Logger;
  lockWaitMs: number;
}

function errorType(err: unknown): string {
  const e = err as { shortType?: string; name?: string; code?: string };
  return e.shortType ?? e.code ?? e.name ?? 'Error';
}

/**
 * One run: lock the config dir, finish any interrupted publish, decide, issue what is due (each
 * certificate on its own: one failure never stops the others), then run the deployments owed,
 * new and left over. ACME code is loaded only when something is due, so a nightly run with
 * nothing to do makes no network call.
 * Throws only for what stops the whole run (lock busy, unwritable directories).
 */
export async function executeRun(opts: RunOptions): Promise<RunSummary> {
  const { settings } = opts.config;
  const dirs = modeDirs({ configDir: settings.configDir, mode: opts.mode, rsaTag: settings.rsaTag, curveTag: settings.curveTag });
  const lock = await acquireRunLock(settings.configDir, opts.lockWaitMs);
  try {
    await prepareModeTree(settings, dirs, opts.log);
    for (const target of await recoverPublishes(dirs.state)) opts.log.change(`completed an interrupted update of ${target}`);
    await Promise.all([dirs.key, dirs.csr, dirs.cert].map(sweepTemps));

    const deployState = await DeployState.load(dirs.state);
    const deploy: DeployContext = {
      actions: opts.config.actions,
      domains: opts.config.domains,
      configDir: settings.configDir,
      mode: opts.mode,
      timeoutMs: settings.actionTimeoutSeconds * 1000,
      log: opts.log,
      now: opts.now,
    };
    const cache = await FactsCache.load(FactsCache.fileIn(dirs.state));
    if (cache.discarded) opts.log.info(`facts cache ${FactsCache.fileIn(dirs.state)} discarded (${cache.discarded}); rebuilt from the files`);
    // Decided after taking the lock: another run may have just renewed everything.
    const items = await loadPlan(opts.config, opts.mode, opts.now(), cache);
    // Decision warnings would repeat every night: mailed by cron once per change, not nightly.
    await reportDecisionWarnings(items, dirs.state, opts.log);
    const due = items.filter(isDue);
    const results = new Map<PlanItem, ItemResult>(
      items.map((item) => [item, { item, status: 'unchanged', notAfter: item.decision.notAfter, error: null, errorType: null, warnings: [], repaired: [] }]),
    );
    await repairStep(items, results, dirs.state, opts.log, (item) => recordChanged(deployState, item, deploy));
    if (due.length > 0) {
      await issueDue(due, results, opts, dirs.state, (item) => recordChanged(deployState, item, deploy));
      // Learn the new files' facts now, so the next run finds them cached and writes nothing.
      await mapLimit(due, 16, (item) => observeKeyAndCert(item.paths, keySpecFor(settings, item.keyType), cache));
    }
    await cache.save().catch((err: Error) => opts.log.warn(`could not save the facts cache: ${err.message}`));
    const deployments = await deployPending(deployState, deploy);
    return { mode: opts.mode, directory: opts.directoryUrl, results: items.map((i) => results.get(i)!), deployments };
  } finally {
    await lock.release();
  }
}

async function issueDue(
  due: PlanItem[],
  results: Map<PlanItem, ItemResult>,
  opts: RunOptions,
  stateDir: string,
  published: (item: PlanItem) => Promise<void>,
): Promise<void> {
  const { settings } = opts.config;
  const fail = (item: PlanItem, err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    opts.log.error(`${item.paths.base} [${item.keyType}]: ${message}`);
    results.set(item, { ...results.get(item)!, status: 'failed', error: message, errorType: errorType(err) });
  };
  let session;
  try {
    const { openAcmeSession } = await import('../acme/session.ts');
    session = await openAcmeSession({
      directoryUrl: opts.directoryUrl,
      accountKeyPem: opts.accountKeyPem,
      contact: settings.acme[opts.mode].contact,
      eab: settings.acme[opts.mode].eab,
      requestTimeoutMs: 30_000,
      orderTimeoutMs: 300_000,
      maxRetryWaitMs: 10_000,
      log: (m) => opts.log.info(m),
    });
  } catch (err) {
    for (const item of due) fail(item, err);
    return;
  }
  const { issueOne } = await import('./issue-one.ts');
  const ctx = {
    session,
    solver: (await import('../challenge/select.ts')).selectSolver(dropDirSolver(settings.challengeDropDir), settings.dns, (m) => opts.log.info(m)),
    stateDir,
    keySpec: (item: PlanItem) => keySpecFor(settings, item.keyType),
    log: (m: string) => opts.log.warn(m),
    beforeValidate: await buildBeforeValidate(settings, opts.config.actions, opts.log),
  };
  const prepare = { configDir: settings.configDir, mode: opts.mode, locks: new NameLocks(), log: opts.log };
  await mapLimit(due, opts.parallel, async (item) => {
    opts.log.change(`${item.decision.action === 'issue' ? 'Issuing' : 'Renewing'} ${item.paths.base} [${item.keyType}]: ${item.decision.reason}`);
    try {
      const done = await withPrepare(item, opts.config.actions, prepare, () => issueOne(item, ctx));
      await published(item);
      for (const w of done.warnings) opts.log.warn(`${item.paths.base} [${item.keyType}]: ${w}`);
      const before = results.get(item)!;
      results.set(item, {
        ...before,
        status: item.decision.action === 'issue' ? 'issued' : 'renewed',
        notAfter: done.notAfter,
        warnings: [...before.warnings, ...done.warnings],
      });
    } catch (err) {
      fail(item, err);
    }
  });
}
