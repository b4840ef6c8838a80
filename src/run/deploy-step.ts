import type { DeployState } from '../actions/deploy-state.ts';
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
}

/**
 * Records that the sections of a just-published certificate owe a deployment. Called right
 * after the certificate is in place, so a crash before the deployment ran is found by the next
 * run like a failed one (lematt lost these, §9 A1).
 */
export async function recordChanged(state: DeployState, item: PlanItem, ctx: DeployContext): Promise<void> {
  const changed = { names: item.names, keyType: item.keyType, certPath: item.paths.cert, keyPath: item.paths.key };
  await state.record(groupBySection(ctx.actions, [changed]), ctx.now());
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
  return runDeployments(deployments, {
    log: ctx.log,
    timeoutMs: ctx.timeoutMs,
    onResult: (r) => state.settle({ section: r.section, ok: r.ok, certPaths: r.certPaths }, ctx.now()),
  });
}
