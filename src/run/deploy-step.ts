import { attemptOutcome, markerPath, newAttemptId, removeMarkers } from '../actions/deploy-attempts.ts';
import type { DeployState } from '../actions/deploy-state.ts';
import type { ProcessRegistry } from '../process/process-registry.ts';
import { runDeployments, type SectionReport } from '../actions/deploy.ts';
import { groupBySection, planDeployments, type CertGroup, type Deployment } from '../plan/deployments.ts';
import { sectionFor, type ActionsConfig } from '../config/actions.ts';
import type { DomainLine } from '../config/domains.ts';
import type { PlanItem } from '../plan/build-plan.ts';
import type { Logger } from '../report/logger.ts';
import type { Mode } from '../store/layout.ts';

/** Where the deploy step runs: conf dir, mode, the per-command timeout, the log and the clock. */
export interface DeployContext {
  actions: ActionsConfig;
  domains: readonly DomainLine[];
  configDir: string;
  mode: Mode;
  timeoutMs: number;
  log: Logger;
  now: () => Date;
  /** `<mode>/.certfleet/`: deploy.json and the commands' exit-status markers. */
  stateDir: string;
  registry?: ProcessRegistry;
  signal?: AbortSignal;
}

/**
 * The deployment a certificate owes once it is installed (its sections). It goes into the
 * publish journal before the swap, and whichever run completes the swap records it with
 * {@link recordOwed}, so a crash at any moment neither loses it (lematt did, §9 A1) nor doubles it.
 */
export function owedFor(item: PlanItem, ctx: Pick<DeployContext, 'actions'>): CertGroup[] {
  const changed = { names: item.names, keyType: item.keyType, certPath: item.paths.cert, keyPath: item.paths.key };
  return groupBySection(ctx.actions, [changed]);
}

/** Records owed groups (from {@link owedFor}, or a journal) in the deploy state. Idempotent per certificate. */
export async function recordOwed(state: DeployState, groups: readonly CertGroup[], ctx: Pick<DeployContext, 'now'>): Promise<void> {
  await state.record(groups, ctx.now());
}

/**
 * Records that an item's sections owe a deployment now (a repair that changed what is served,
 * made outside a publish journal).
 */
export async function recordChanged(state: DeployState, item: PlanItem, ctx: Pick<DeployContext, 'actions' | 'now'>): Promise<void> {
  await state.record(owedFor(item, ctx), ctx.now());
}

/**
 * Settles the deployments a dead run had started (call after its leftover commands were
 * stopped): a section whose commands all finished is settled as they ended, by their markers,
 * and not run again; one cut short is owed as before.
 */
export async function settleInterrupted(state: DeployState, ctx: DeployContext): Promise<void> {
  for (const entry of state.pending()) {
    if (!entry.attempt) continue;
    const outcome = await attemptOutcome(ctx.stateDir, entry.attempt);
    if (outcome === 'incomplete') {
      ctx.log.info(`[${entry.section}]: the deployment an interrupted run started did not finish; it runs again`);
      await state.abandon(entry.section);
    } else {
      ctx.log.change(`[${entry.section}]: the deployment an interrupted run started had ${outcome === 'done' ? 'succeeded' : 'failed'}; settled without running it again`);
      await state.settle({ section: entry.section, ok: outcome === 'done', certPaths: entry.attempt.certPaths }, ctx.now());
    }
    await removeMarkers(ctx.stateDir, entry.attempt.id);
  }
}

/**
 * Orders sections by where their names first appear in `domains`, and each section's
 * certificates by their line (as lematt, whose order was the first changed name's, but
 * independent of which request of a `--parallel` run finished first); `[every]` and sections no
 * longer in actions.conf come last.
 */
function inDomainsOrder<T extends CertGroup>(pending: readonly T[], ctx: Pick<DeployContext, 'actions' | 'domains'>): T[] {
  const rank = new Map<string, number>();
  const lineOf = new Map<string, number>();
  ctx.domains.forEach((line, index) => {
    for (const name of line.names) {
      const section = sectionFor(ctx.actions, name).name;
      if (!rank.has(section)) rank.set(section, rank.size);
      if (!lineOf.has(name)) lineOf.set(name, index);
    }
  });
  const at = (s: string) => (s === 'every' ? Number.MAX_SAFE_INTEGER - 1 : rank.get(s) ?? Number.MAX_SAFE_INTEGER);
  const line = (c: T['certs'][number]) => lineOf.get(c.names[0]) ?? Number.MAX_SAFE_INTEGER;
  return [...pending].sort((a, b) => at(a.section) - at(b.section)).map((g) => ({ ...g, certs: [...g.certs].sort((x, y) => line(x) - line(y) || Number(x.keyType === 'ec') - Number(y.keyType === 'ec')) }));
}

/**
 * The deployments owed, as they will run: sections in domains order, commands expanded. Pure;
 * the run and `--dry-run` both use it, so the dry run shows exactly what a run would do.
 */
export function owedDeployments(pending: readonly CertGroup[], ctx: Pick<DeployContext, 'actions' | 'domains' | 'configDir' | 'mode'>): Deployment[] {
  return planDeployments(ctx.actions, inDomainsOrder(pending, ctx), { configDir: ctx.configDir, mode: ctx.mode });
}

/**
 * Runs every deployment owed, new in this run or left over from earlier runs: once per section,
 * uploadCerts → uploadKeys → update through /bin/sh. A section is settled (forgotten) only when
 * all its commands succeeded; a failed one stays owed and is tried again next run.
 */
export async function deployPending(state: DeployState, ctx: DeployContext): Promise<SectionReport[]> {
  const deployments = owedDeployments(state.pending(), ctx);
  if (deployments.length === 0) return [];
  ctx.log.change(`Copying keys and certificates, then reloading services: ${deployments.map((d) => `[${d.section}]`).join(' ')}`);
  const ids = new Map<string, string>();
  return runDeployments(deployments, {
    log: ctx.log,
    timeoutMs: ctx.timeoutMs,
    registry: ctx.registry,
    signal: ctx.signal,
    onStart: async (d) => {
      const id = newAttemptId();
      ids.set(d.section, id);
      await state.begin(d.section, { id, certPaths: d.certs.map((c) => c.certPath), commands: d.commands.length });
      return (index) => markerPath(ctx.stateDir, id, index);
    },
    onResult: async (r) => {
      await state.settle({ section: r.section, ok: r.ok, certPaths: r.certPaths }, ctx.now());
      const id = ids.get(r.section);
      if (id) await removeMarkers(ctx.stateDir, id);
    },
  });
}
