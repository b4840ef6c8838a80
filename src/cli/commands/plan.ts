import { isDue, namingFor, planJson, sectionsFor } from '../../plan/build-plan.ts';
import { describeLink } from '../../store/links.ts';
import { FactsCache } from '../../store/facts-cache.ts';
import { modeDirs } from '../../store/layout.ts';
import { loadPlan } from '../../run/load-plan.ts';
import { EXIT, UsageError, type Io } from '../errors.ts';
import { loadCheckedConfig, modeFrom } from '../load.ts';

/** Flags of `certfleet plan`. */
export interface PlanFlags {
  test?: boolean;
  prod?: boolean;
  config: string;
  at?: string;
  json?: boolean;
}

/** `certfleet plan`: the decision without the doing; reads files only, takes no lock, writes nothing. */
export async function planCommand(flags: PlanFlags, io: Io): Promise<number> {
  const mode = modeFrom(flags, false);
  let now = io.now();
  if (flags.at !== undefined) {
    now = new Date(flags.at);
    if (!/^\d{4}-\d{2}-\d{2}/.test(flags.at) || Number.isNaN(now.getTime())) throw new UsageError(`--at must be an ISO date such as 2027-01-31 or 2027-01-31T12:00:00Z, not ${JSON.stringify(flags.at)}`);
  }
  const config = await loadCheckedConfig(flags.config, io, Boolean(flags.json));
  // Reads the facts cache a run left, never writes it: plan changes nothing on disk.
  const cache = await FactsCache.load(FactsCache.fileIn(modeDirs(namingFor(config.settings, mode)).state));
  const items = await loadPlan(config, mode, now, cache);
  if (flags.json) {
    io.stdout.write(JSON.stringify(planJson(items, config.actions), null, 2) + '\n');
    return EXIT.ok;
  }
  for (const i of items) {
    const until = i.decision.notAfter ? ` (until ${i.decision.notAfter.toISOString()})` : '';
    const sections = isDue(i) ? `; then runs ${sectionsFor(config.actions, i).map((s) => `[${s}]`).join(' ')}` : '';
    io.stdout.write(`${i.decision.action.padEnd(6)} ${i.keyType.padEnd(3)} ${i.identifiers.join(' ')}: ${i.decision.reason}${until}${sections}\n`);
    for (const w of i.decision.warnings) io.stdout.write(`       warning: ${w}\n`);
    for (const f of i.repairs) io.stdout.write(`       repair: ${describeLink(f)}\n`);
  }
  return EXIT.ok;
}
