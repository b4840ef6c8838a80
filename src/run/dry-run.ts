import { DeployState } from '../actions/deploy-state.ts';
import { groupBySection, prepareCommands } from '../plan/deployments.ts';
import { mergePending } from '../actions/deploy-state.ts';
import { owedDeployments } from './deploy-step.ts';
import type { Config } from '../config/load.ts';
import { isDue, namingFor, planJson } from '../plan/build-plan.ts';
import { describeLink } from '../store/links.ts';
import { FactsCache } from '../store/facts-cache.ts';
import { modeDirs, type Mode } from '../store/layout.ts';
import { CertStateStore } from '../store/cert-state.ts';
import type { Account } from '../plan/gate.ts';
import { loadPlan, type Selection } from './load-plan.ts';
import { gateDue } from './renewal-step.ts';

/**
 * What `run --dry-run` prints: everything a run would do up to, not including, ACME requests
 * and actions: the due certificates, the prepare commands each request would start, and every
 * section's commands as they would run (for the due certificates, assuming they succeed, plus
 * deployments owed from earlier runs). Reads only: no lock, no key generation, no writes.
 */
export async function dryRun(config: Config, mode: Mode, now: Date, account: Account, opts: { selection?: Selection; retry?: boolean } = {}): Promise<{ text: string; json: object }> {
  const { settings, actions } = config;
  const dirs = modeDirs(namingFor(settings, mode));
  const state = await CertStateStore.load(CertStateStore.fileIn(dirs.state));
  const decided = await loadPlan(config, mode, now, await FactsCache.load(FactsCache.fileIn(dirs.state)), state, opts.selection);
  // Held as the run would hold them: a back-off (unless --retry/--force) or the rate budget.
  const items = await gateDue(decided, config, mode, state, account, now, Boolean(opts.retry || opts.selection?.force));
  const due = items.filter((i) => isDue(i) && !i.hold);
  const held = items.filter((i) => i.hold);
  const owed = (await DeployState.load(dirs.state)).pending();
  const changed = due.map((i) => ({ names: i.names, keyType: i.keyType, certPath: i.paths.cert, keyPath: i.paths.key }));
  // What the run would owe after issuing everything due, deployed as the run deploys it.
  const pending = mergePending(owed, groupBySection(actions, changed), now);
  const deployments = owedDeployments(pending, { actions, domains: config.domains, configDir: settings.configDir, mode });

  const lines: string[] = [];
  for (const i of items) {
    if (i.decision.action === 'fail') lines.push(`would fail ${i.keyType} ${i.identifiers.join(' ')}: ${i.decision.reason}`);
    for (const f of i.repairs) lines.push(`would repair ${i.keyType} ${i.identifiers.join(' ')}: ${describeLink(f)}`);
  }
  for (const i of due) {
    lines.push(`would ${i.decision.action} ${i.keyType} ${i.identifiers.join(' ')}: ${i.decision.reason}`);
    for (const p of prepareCommands(actions, i.names)) for (const c of p.commands) lines.push(`  prepare [${c.section}]: ${c.command}`);
  }
  for (const i of held) lines.push(`would wait ${i.keyType} ${i.identifiers.join(' ')}: ${i.decision.reason}; ${i.hold!.kind === 'backoff' ? 'back-off' : 'rate budget'} until ${i.hold!.until.toISOString()}`);
  if (owed.length) lines.push(`owed from earlier runs: ${owed.map((p) => `[${p.section}]`).join(' ')}`);
  for (const d of deployments) {
    lines.push(`would run [${d.section}] for ${[...new Set(d.certs.map((c) => c.names[0]))].join(' ')}`);
    for (const c of d.commands) lines.push(`  ${c.kind}: ${c.command}`);
  }
  lines.push(`${due.length} due, ${held.length} held, ${items.length - due.length - held.length} not due; nothing was requested, written or run`);
  return {
    text: lines.join('\n') + '\n',
    json: {
      dryRun: true,
      mode,
      plan: planJson(due),
      held: planJson(held),
      deployments: deployments.map((d) => ({ section: d.section, cns: [...new Set(d.certs.map((c) => c.names[0]))], commands: d.commands.map((c) => ({ kind: c.kind, line: c.line, command: c.command })) })),
    },
  };
}
