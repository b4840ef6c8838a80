/**
 * The renewal side of a run that talks to the CA: fresh directory facts, the ARI polls that are
 * due, the profile check, and the budget and back-off that hold due items. Everything here is
 * reached only when a poll or an order is due, so a quiet run makes no network call.
 */
import type { DirectoryInfo } from '../acme/renewal-info.ts';
import type { Config } from '../config/load.ts';
import { ConfigError } from '../config/diagnostics.ts';
import { LETS_ENCRYPT_LIMITS } from '../config/acme-endpoints.ts';
import { ariPollDue } from '../plan/ari-schedule.ts';
import { isDue, stateKey, type PlanItem } from '../plan/build-plan.ts';
import { BudgetPlanner, registeredDomains } from '../plan/budget.ts';
import { holdDue, type Account } from '../plan/gate.ts';
import type { CertStateStore } from '../store/cert-state.ts';
import type { Mode } from '../store/layout.ts';
import type { Observation } from './load-plan.ts';
import type { PollTarget } from './ari-poll.ts';

/** The directory, fetched at most once per run and only when needed; null when unreachable. */
export function directoryOnce(url: string, timeoutMs: number, info: (m: string) => void): () => Promise<DirectoryInfo | null> {
  let dir: Promise<DirectoryInfo | null> | null = null;
  return () =>
    (dir ??= import('../acme/renewal-info.ts').then(({ fetchDirectory }) =>
      fetchDirectory(url, timeoutMs).catch((err: Error) => {
        info(`directory ${url}: ${err.message}`);
        return null;
      }),
    ));
}

/** The certificates whose renewalInfo is due: ARI on, a CertID, not expired, Retry-After passed. */
export function pollTargets(observations: readonly Observation[], state: CertStateStore, ariOn: boolean, now: Date): PollTarget[] {
  if (!ariOn) return [];
  const out: PollTarget[] = [];
  for (const o of observations) {
    const cert = o.obs.cert;
    if (cert.state !== 'ok' || !cert.certId || cert.notAfter <= now) continue;
    const key = stateKey(o.paths);
    if (ariPollDue(state.get(key).ari, cert.certId, now)) out.push({ key, certId: cert.certId });
  }
  return out;
}

/**
 * Fails the run before any order when `profile` is set and the directory does not offer it,
 * naming the profiles it does offer. An unreachable directory is left to the orders to report.
 */
export function checkProfile(config: Config, mode: Mode, dir: DirectoryInfo | null, directoryUrl: string, lemattConfDisplay: string): void {
  const profile = config.settings.acme[mode].profile;
  if (!profile || !dir) return;
  if (dir.profiles && Object.hasOwn(dir.profiles, profile.name)) return;
  const offered = dir.profiles ? Object.keys(dir.profiles) : [];
  const list = offered.length ? `it offers: ${offered.join(', ')}` : 'it offers no profiles';
  throw new ConfigError([{ file: lemattConfDisplay, line: profile.line, severity: 'error', message: `profile: "${profile.name}" is not offered by ${directoryUrl}; ${list}` }]);
}

/** Whether the rate budget applies: `rateBudget: yes`, or `auto` with Let's Encrypt's production directory. */
export function budgetApplies(config: Config, mode: Mode, directoryUrl: string): boolean {
  const enabled = config.settings.acme[mode].budget.enabled;
  if (enabled !== 'auto') return enabled;
  try {
    return new URL(directoryUrl).hostname === 'acme-v02.api.letsencrypt.org';
  } catch {
    return false;
  }
}

/** The failure context of an item: its line and the config (a change of either clears its failures). */
export function failureContext(config: Config, item: PlanItem): string {
  return `${config.digest}:${item.keyType}:${item.identifiers.join(',')}`;
}

/**
 * Holds due items that must wait (back-off, budget). The Public Suffix List is loaded only when
 * the budget applies and something is due.
 */
export async function gateDue(
  items: PlanItem[], config: Config, mode: Mode, state: CertStateStore, account: Account, now: Date, retry: boolean,
): Promise<PlanItem[]> {
  if (!items.some(isDue)) return items;
  let budget = null;
  if (budgetApplies(config, mode, account.directory)) {
    const { getDomain } = await import('tldts');
    const limits = { ...LETS_ENCRYPT_LIMITS, ...config.settings.acme[mode].budget };
    budget = {
      planner: new BudgetPlanner(state.ledger, limits, now),
      account,
      domains: (i: PlanItem) => registeredDomains(i.identifiers, (n) => getDomain(n, { allowPrivateDomains: true })),
    };
  }
  return holdDue(items, { now, retry, record: (i) => state.get(stateKey(i.paths)), context: (i) => failureContext(config, i), budget });
}
