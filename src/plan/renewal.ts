import type { Observed } from '../store/observed.ts';
import { integrityRule } from './integrity-rule.ts';

export type { Observed };

/** The renewal settings of lematt.conf that matter here. */
export interface RenewalPolicy {
  reauthorizeDays: number;
  generateNewCertsAfterDays: number;
  alwaysGenerateNewKeys: boolean;
}

/** The CA's renewal window for the certificate on disk (RFC 9773), with the moment chosen inside it. */
export interface AriWindow {
  start: Date;
  end: Date;
  /** The random moment inside the window this certificate renews at (kept while the window is unchanged). */
  renewAt: Date;
  explanationURL: string | null;
}

/** The decision for one certificate; a plain, serialisable value. */
export interface Decision {
  /** `fail`: the certificate cannot be renewed safely as things are; `reason` says what to do. */
  action: 'issue' | 'renew' | 'skip' | 'fail';
  reason: string;
  notAfter: Date | null;
  /**
   * When the certificate is (for issue/renew) or becomes (for skip) due, by the rule that fires
   * first; null when nothing on disk dates it (missing or unreadable files).
   */
  renewAt: Date | null;
  /** Which rule set the timing: the CA's window (`ari`), lematt's settings, or the lifetime rules. */
  basis: 'files' | 'ari' | 'lematt' | 'lifetime' | 'expiry' | 'forced';
  /** A new key must be generated (else the existing key is reused). */
  newKey: boolean;
  /** A new CSR must be made (else the existing one is submitted). */
  newCsr: boolean;
  warnings: string[];
}

const DAY = 86_400_000;

function days(ms: number): string {
  return ms >= DAY || ms <= -DAY ? `${Math.round((ms / DAY) * 10) / 10}d` : `${Math.round((ms / 3_600_000) * 10) / 10}h`;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((n) => sa.has(n));
}

function keyPlan(want: readonly string[], obs: Observed, policy: RenewalPolicy): { newKey: boolean; newCsr: boolean; why: string | null } {
  const k = obs.key;
  if (k.state === 'missing') return { newKey: true, newCsr: true, why: null };
  if (k.state === 'unreadable') return { newKey: true, newCsr: true, why: `key unreadable (${k.error})` };
  if (!k.matchesSpec) return { newKey: true, newCsr: true, why: `key is ${k.description}, not what lematt.conf asks for` };
  if (policy.alwaysGenerateNewKeys) return { newKey: true, newCsr: true, why: null };
  const c = obs.csr;
  // lematt submitted an old CSR after the key changed (lematt.md §9 A9): check it belongs.
  const newCsr = c.state !== 'ok' || c.spkiSha256 !== k.spkiSha256 || !sameNames(c.names, want);
  return { newKey: false, newCsr, why: null };
}

/** A moment at which one rule makes a certificate due. */
interface Moment {
  at: number;
  rule: 'expiry' | 'floor' | 'ari' | 'age' | 'window' | 'lifetime';
}

const BASIS: Record<Moment['rule'], Decision['basis']> = { expiry: 'expiry', floor: 'lifetime', ari: 'ari', age: 'lematt', window: 'lematt', lifetime: 'lifetime' };

/** The fraction of a lifetime left at which a certificate renews without ARI (half under 10 days). */
export function lifetimeShare(lifetimeMs: number): number {
  return lifetimeMs < 10 * DAY ? 1 / 2 : 1 / 3;
}

/**
 * The earliest moment at which a timing rule makes a valid certificate due. The expiry and the
 * emergency floor (a twentieth of the lifetime left) always count. With an ARI window for this
 * certificate, the CA's window decides; without one (ARI off, not offered or not answered yet),
 * lematt's rules (`generateNewCertsAfterDays`, else `reauthorizeDays` with its first-third guard)
 * and the lifetime rule (a third of the lifetime left, half under 10 days) do. Plain numbers, no
 * closures: this runs for every certificate on every run.
 */
function firstMoment(start: number, end: number, policy: RenewalPolicy, ari: AriWindow | null): Moment {
  const life = end - start;
  let first: Moment = { at: end, rule: 'expiry' };
  const consider = (at: number, rule: Moment['rule']) => {
    if (at < first.at) first = { at, rule };
  };
  consider(end - life / 20, 'floor');
  if (ari) {
    consider(Math.min(ari.renewAt.getTime(), ari.end.getTime()), 'ari');
    return first;
  }
  const n = policy.generateNewCertsAfterDays;
  if (n > 0) consider(start + n * DAY, 'age');
  else if (policy.reauthorizeDays > 0) consider(Math.max(end - policy.reauthorizeDays * DAY, start + life / 3), 'window');
  consider(end - life * lifetimeShare(life), 'lifetime');
  return first;
}

/** The warning lematt's window earns when it reaches into the first third of a lifetime (it would renew on every run). */
function windowWarning(start: number, end: number, policy: RenewalPolicy, ari: AriWindow | null): string | null {
  const life = end - start;
  if (ari || policy.generateNewCertsAfterDays > 0 || policy.reauthorizeDays <= 0 || end - policy.reauthorizeDays * DAY >= start + life / 3) return null;
  return `reauthorizeDays (${policy.reauthorizeDays}d) is larger than two thirds of this certificate's lifetime (${days(life)}); renewing once a third of its life has passed instead of on every run`;
}

/** Why a rule that fired renews the certificate. */
function reasonFor(m: Moment, remaining: number, life: number, now: number, policy: RenewalPolicy, ari: AriWindow | null, guarded: boolean): string {
  const left = days(remaining);
  switch (m.rule) {
    case 'expiry':
    case 'floor':
      return `${left} left, under a twentieth of its ${days(life)} lifetime`;
    case 'ari': {
      const why = ari!.explanationURL ? `; see ${ari!.explanationURL}` : '';
      return ari!.end.getTime() <= now
        ? `the CA's renewal window ended ${ari!.end.toISOString()}${why}`
        : `in the CA's renewal window ${ari!.start.toISOString()} – ${ari!.end.toISOString()}${why}`;
    }
    case 'age':
      return `older than generateNewCertsAfterDays (${policy.generateNewCertsAfterDays}d)`;
    case 'window':
      return guarded
        ? `${left} left; a third of its life has passed (reauthorizeDays ${policy.reauthorizeDays}d is longer than two thirds of it)`
        : `${left} left, inside reauthorizeDays (${policy.reauthorizeDays}d)`;
    case 'lifetime':
      return `${left} left, ${lifetimeShare(life) === 0.5 ? 'half' : 'a third'} of its ${days(life)} lifetime`;
  }
}

/**
 * Decides whether one certificate is issued, renewed or left alone, and when it will be due.
 * Pure: `now` and the CA's window are passed in.
 *
 * First the files: damage found by the integrity check (plan/integrity-rule.ts), a missing or
 * unreadable certificate, a key that is unreadable or not what the config asks for, other names
 * than the line, or a certificate for another key make it due now (or fail it).
 * Then the timing rules of {@link firstMoment}: the earliest moment decides, and the
 * certificate is due once it has passed.
 *
 * `want` holds the line's identifiers, lowercased and deduplicated. `force` (`--force`) renews a
 * certificate that is not due.
 */
export function decideRenewal(want: readonly string[], obs: Observed, policy: RenewalPolicy, now: Date, ari: AriWindow | null = null, force = false): Decision {
  const keys = keyPlan(want, obs, policy);
  const cert = obs.cert;
  const notAfter = cert.state === 'ok' ? cert.notAfter : null;
  // One object shape for every outcome: this runs for every certificate on every run.
  const decision = (action: Decision['action'], reason: string, renewAt: Date | null, basis: Decision['basis'], warnings: string[] = [], fresh = action !== 'skip'): Decision => ({
    action, reason, notAfter, renewAt, basis, newKey: fresh && keys.newKey, newCsr: fresh && keys.newCsr, warnings,
  });
  // Damage the leaf's dates cannot show (a lost key, a broken chain, a blocked path) comes first.
  const damaged = integrityRule(obs, keys);
  if (damaged) return { ...damaged, renewAt: null, basis: 'files' };
  if (cert.state === 'missing') return decision('issue', keys.why ?? 'no certificate yet', null, 'files');
  if (cert.state === 'unreadable') return decision('renew', `certificate unreadable (${cert.error})${keys.why ? `; ${keys.why}` : ''}`, null, 'files');
  if (keys.why) return decision('renew', `${keys.why}; a new key replaces it`, null, 'files');
  if (!sameNames(cert.names, want)) {
    const added = want.filter((n) => !cert.names.includes(n));
    const removed = cert.names.filter((n) => !want.includes(n));
    return decision('renew', `names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')})`, null, 'files');
  }
  if (obs.key.state === 'ok' && cert.spkiSha256 !== obs.key.spkiSha256) return decision('renew', 'certificate does not belong to the key beside it', null, 'files');

  const t = now.getTime();
  const start = cert.notBefore.getTime();
  const end = cert.notAfter.getTime();
  const first = firstMoment(start, end, policy, ari);
  const warning = windowWarning(start, end, policy, ari);
  const warnings = warning ? [warning] : [];
  const remaining = end - t;
  const renewAt = new Date(first.at);
  const basis = BASIS[first.rule];
  if (remaining <= 0) return decision('renew', `expired ${cert.notAfter.toISOString()}`, renewAt, 'expiry', warnings);
  if (first.at <= t) return decision('renew', reasonFor(first, remaining, end - start, t, policy, ari, warning !== null), renewAt, basis, warnings);
  if (force) return decision('renew', `forced (--force); ${days(remaining)} left`, now, 'forced', warnings);
  const by = basis === 'ari' ? "the CA's renewal window" : basis === 'lematt' ? 'lematt.conf' : 'its lifetime';
  return decision('skip', `${days(remaining)} left; renews ${renewAt.toISOString()} (${by})`, renewAt, basis, warnings);
}
