import { readFile } from 'node:fs/promises';
import { isDue, namingFor, planJson, sectionsFor, type PlanItem } from '../../plan/build-plan.ts';
import { CertStateStore } from '../../store/cert-state.ts';
import { describeLink } from '../../store/links.ts';
import { FactsCache } from '../../store/facts-cache.ts';
import { modeDirs } from '../../store/layout.ts';
import { loadPlan } from '../../run/load-plan.ts';
import { gateDue } from '../../run/renewal-step.ts';
import { EXIT, UsageError, type Io } from '../errors.ts';
import { loadCheckedConfig, modeFrom, onlyNames } from '../load.ts';

/** Flags of `certfleet plan`. */
export interface PlanFlags {
  test?: boolean;
  prod?: boolean;
  config: string;
  at?: string;
  json?: boolean;
  only?: string[];
}

/** The account's thumbprint for the budget's per-account count; a placeholder when the key cannot be read (plan never fails for it). */
async function accountThumbprint(path: string): Promise<string> {
  try {
    const { jwkThumbprint } = await import('../../crypto/thumbprint.ts');
    return jwkThumbprint(await readFile(path, 'utf8'));
  } catch {
    return 'unreadable-account-key';
  }
}

function detailLines(i: PlanItem): string[] {
  const out: string[] = [];
  if (i.ari) {
    const win = i.ari.start && i.ari.end ? `CA's window ${i.ari.start.toISOString()} – ${i.ari.end.toISOString()}, chosen moment ${i.ari.renewAt?.toISOString()}` : "no window from the CA yet";
    out.push(`ari: ${win}; next poll ${i.ari.nextPoll.toISOString()}${i.ari.error ? ` (last poll: ${i.ari.error})` : ''}${i.ari.explanationURL ? `; see ${i.ari.explanationURL}` : ''}`);
  }
  const h = i.hold;
  if (h?.kind === 'backoff') out.push(`waiting until ${h.until.toISOString()}: ${h.rateLimited ? "the CA's rate limit" : `back-off after ${h.failures} failure${h.failures === 1 ? '' : 's'}`} (last: ${h.lastError}); --retry orders now`);
  if (h?.kind === 'deferred') out.push(`deferred: its slot under the CA's rate limits comes ${h.until.toISOString()}`);
  for (const w of i.decision.warnings) out.push(`warning: ${w}`);
  for (const f of i.repairs) out.push(`repair: ${describeLink(f)}`);
  return out;
}

/** `certfleet plan`: the decision without the doing; reads files only, takes no lock, writes nothing, asks no server. */
export async function planCommand(flags: PlanFlags, io: Io): Promise<number> {
  const mode = modeFrom(flags, false);
  let now = io.now();
  if (flags.at !== undefined) {
    now = new Date(flags.at);
    if (!/^\d{4}-\d{2}-\d{2}/.test(flags.at) || Number.isNaN(now.getTime())) throw new UsageError(`--at must be an ISO date such as 2027-01-31 or 2027-01-31T12:00:00Z, not ${JSON.stringify(flags.at)}`);
  }
  const config = await loadCheckedConfig(flags.config, io, Boolean(flags.json));
  const { settings } = config;
  // Reads the facts cache and the state a run left, never writes them: plan changes nothing on disk.
  const stateDir = modeDirs(namingFor(settings, mode)).state;
  const state = await CertStateStore.load(CertStateStore.fileIn(stateDir));
  const selection = { only: onlyNames(config, flags.only), force: false };
  const decided = await loadPlan(config, mode, now, await FactsCache.load(FactsCache.fileIn(stateDir)), state, selection);
  const account = { directory: settings.acme[mode].directory, thumbprint: await accountThumbprint(settings.accountKey) };
  const items = await gateDue(decided, config, mode, state, account, now, false);
  if (flags.json) {
    io.stdout.write(JSON.stringify(planJson(items, config.actions), null, 2) + '\n');
    return EXIT.ok;
  }
  for (const i of items) {
    const until = i.decision.notAfter ? ` (until ${i.decision.notAfter.toISOString()})` : '';
    const sections = isDue(i) ? `; then runs ${sectionsFor(config.actions, i).map((s) => `[${s}]`).join(' ')}` : '';
    const action = i.hold ? (i.hold.kind === 'backoff' ? 'wait' : 'defer') : i.decision.action;
    io.stdout.write(`${action.padEnd(6)} ${i.keyType.padEnd(3)} ${i.identifiers.join(' ')}: ${i.decision.reason}${until}${sections}\n`);
    for (const line of detailLines(i)) io.stdout.write(`       ${line}\n`);
  }
  return EXIT.ok;
}
