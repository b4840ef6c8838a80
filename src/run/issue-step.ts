/**
 * The ordering part of a run, loaded only when something is due: hold what must wait, check
 * the profile, then get each due certificate through the Issuer (each on its own: one failure
 * never stops the others), remembering failures, issuances and the rate ledger, and asking
 * ARI about each new certificate right away.
 */
import { AcmeProblemError } from '../acme/errors.ts';
import type { DirectoryInfo } from '../acme/renewal-info.ts';
import { recordFailure } from '../plan/backoff.ts';
import { isDue, keySpecFor, stateKey, type PlanItem } from '../plan/build-plan.ts';
import { exemptFromBudget, replacesFor, type Account } from '../plan/gate.ts';
import { registeredDomains } from '../plan/budget.ts';
import type { ItemResult } from '../report/summary.ts';
import type { CertStateStore } from '../store/cert-state.ts';
import type { PollTarget } from './ari-poll.ts';
import type { ArtifactJournal } from '../challenge/artifact-journal.ts';
import type { ProcessRegistry } from '../process/process-registry.ts';
import type { Installed } from '../store/publish.ts';
import { orderable, type BlockedPublishes } from './fault-checks.ts';
import type { RunOptions } from './run-options.ts';
import { mapLimit } from './load-plan.ts';
import { NameLocks, withPrepare } from './prepare-step.ts';
import { resultKey } from './repair-step.ts';
import { budgetApplies, checkProfile, failureContext, gateDue } from './renewal-step.ts';

/** What the ordering step needs beyond the run's options. */
export interface IssueStepOptions extends RunOptions {
  state: CertStateStore;
  stateDir: string;
  directory: () => Promise<DirectoryInfo | null>;
  /** `--retry` or `--force`: the back-off does not hold. */
  retry: boolean;
  registry: ProcessRegistry;
  /** Publishes that cannot be completed yet: their certificates fail, unordered. */
  blocked: BlockedPublishes;
  artifacts: ArtifactJournal;
  /** What a publish owes (its deployment), and where it is recorded once installed. */
  owed: (item: PlanItem) => unknown;
  installed: Installed;
}

function errorType(err: unknown): string {
  const e = err as { shortType?: string; name?: string; code?: string };
  return e.shortType ?? e.code ?? e.name ?? 'Error';
}

function describeHold(item: PlanItem): string {
  const h = item.hold!;
  return h.kind === 'backoff'
    ? `not ordered until ${h.until.toISOString()}: ${h.rateLimited ? "the CA's rate limit" : `back-off after ${h.failures} failure${h.failures === 1 ? '' : 's'}`} (last: ${h.lastError}); --retry orders now`
    : `deferred to ${h.until.toISOString()} by the CA's rate limits (budget)`;
}

/**
 * Gates, then issues every due item that is not held; sets a result for each item it tried.
 * Returns the items with their holds. Throws only when the configured profile is not offered.
 */
export async function issueDue(
  items: PlanItem[],
  results: Map<string, ItemResult>,
  opts: IssueStepOptions,
): Promise<PlanItem[]> {
  const { config, mode, state } = opts;
  const { settings } = config;
  const now = opts.now();
  const { jwkThumbprint } = await import('../crypto/thumbprint.ts');
  const account: Account = { directory: opts.directoryUrl, thumbprint: jwkThumbprint(opts.accountKeyPem) };
  const gated = await gateDue(items, config, mode, state, account, now, opts.retry);
  for (const item of gated) if (item.hold) opts.log.info(`${item.paths.base} [${item.keyType}]: due (${item.decision.reason}); ${describeHold(item)}`);
  // Only what the run has not already settled (a failed repair) goes to the CA; faults no order
  // can fix (a directory where a file goes) fail before any order, every run until fixed.
  const due = await orderable(gated.filter((i) => isDue(i) && !i.hold && results.get(resultKey(i))!.status === 'unchanged'), opts.blocked, (item, err) => {
    opts.log.error(`${item.paths.base} [${item.keyType}]: ${err.message}`);
    const r = results.get(resultKey(item))!;
    results.set(resultKey(item), { ...r, item, status: 'failed', error: err.message, errorType: 'blocked' });
  });
  if (due.length === 0) return gated;

  const profile = settings.acme[mode].profile;
  if (profile) checkProfile(config, mode, await opts.directory(), opts.directoryUrl, settings.lemattConf);
  const budget = budgetApplies(config, mode, opts.directoryUrl) ? await import('tldts') : null;

  const fail = (item: PlanItem, err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    opts.log.error(`${item.paths.base} [${item.keyType}]: ${message}`);
    const r = results.get(resultKey(item))!;
    results.set(resultKey(item), { ...r, item, status: 'failed', error: message, errorType: errorType(err) });
    // An interrupted run (SIGTERM/SIGINT) is no failure of the order: it must not start a back-off.
    if (opts.signal?.aborted) return;
    const key = stateKey(item.paths);
    const retryAfter = err instanceof AcmeProblemError ? err.retryAfter : null;
    const record = state.get(key);
    state.set(key, { ...record, failure: recordFailure(record.failure, failureContext(config, item), { message, errorType: errorType(err), retryAfter }, opts.now(), item.decision.notAfter) });
  };
  let issuer;
  try {
    const { createIssuer } = await import('./issuer.ts');
    const { buildBeforeValidate } = await import('./validate-hook.ts');
    const beforeValidate = await buildBeforeValidate(settings, config.actions, opts.log);
    const { CaHealth } = await import('../acme/ca-health.ts');
    const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    // One deadline per run for a CA that never answers: the first unanswered request's.
    const health = new CaHealth(opts.directoryUrl, requestTimeoutMs, opts.signal);
    issuer = await createIssuer({
      settings, mode, directoryUrl: opts.directoryUrl, accountKeyPem: opts.accountKeyPem, beforeValidate, info: (m) => opts.log.info(m), warn: (m) => opts.log.warn(m),
      requestTimeoutMs, health, artifacts: opts.artifacts,
    });
  } catch (err) {
    for (const item of due) fail(item, err);
    return gated;
  }
  const { issueOne } = await import('./issue-one.ts');
  const ctx = { issuer, stateDir: opts.stateDir, keySpec: (item: PlanItem) => keySpecFor(settings, item.keyType), owed: opts.owed, installed: opts.installed };
  const prepare = { configDir: settings.configDir, mode, locks: new NameLocks(), log: opts.log, registry: opts.registry };
  const fresh: PollTarget[] = [];
  await mapLimit(due, opts.parallel, async (item) => {
    const key = stateKey(item.paths);
    const replaces = replacesFor(item, state.get(key), account);
    const counted = budget !== null && !exemptFromBudget(item, replaces, now);
    if (opts.signal?.aborted) {
      const r = results.get(resultKey(item))!;
      results.set(resultKey(item), { ...r, item, status: 'failed', error: 'not started: the run was interrupted', errorType: 'interrupted' });
      return;
    }
    opts.log.change(`${item.decision.action === 'issue' ? 'Issuing' : 'Renewing'} ${item.paths.base} [${item.keyType}]: ${item.decision.reason}`);
    try {
      if (counted) state.ledger.orders.push({ at: opts.now().toISOString(), account: account.thumbprint });
      if (counted) state.touchLedger();
      const done = await withPrepare(item, config.actions, prepare, () => issueOne(item, ctx, { replaces: replaces ?? undefined, profile: profile?.name }));
      if (counted) state.ledger.certs.push({ at: opts.now().toISOString(), domains: registeredDomains(item.identifiers, (n) => budget.getDomain(n, { allowPrivateDomains: true })) });
      state.set(key, { issued: { certId: done.certId, directory: issuer.directory, account: issuer.account, profile: profile?.name ?? null, at: opts.now().toISOString() } });
      if (done.certId) fresh.push({ key, certId: done.certId });
      for (const w of done.warnings) opts.log.warn(`${item.paths.base} [${item.keyType}]: ${w}`);
      const r = results.get(resultKey(item))!;
      results.set(resultKey(item), { ...r, item, status: item.decision.action === 'issue' ? 'issued' : 'renewed', notAfter: done.notAfter, warnings: [...r.warnings, ...done.warnings] });
    } catch (err) {
      fail(item, err);
    }
  });
  // RFC 9773: ask about a new certificate right after issuance.
  if (fresh.length > 0 && settings.acme[mode].ari) {
    const { pollRenewalInfo } = await import('./ari-poll.ts');
    await pollRenewalInfo(fresh, await opts.directory(), state, { now: opts.now(), random: opts.random ?? Math.random, timeoutMs: 15_000, info: (m) => opts.log.info(m) });
  }
  return gated;
}
