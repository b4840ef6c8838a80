import type { Observed } from '../store/observed.ts';

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
  action: 'issue' | 'renew' | 'skip';
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

/** A moment at which one rule makes a certificate due, and the reason it gives then. */
interface Moment {
  at: number;
  basis: Decision['basis'];
  reason: (remaining: number, now: number) => string;
  warning?: string;
}

/** The fraction of a lifetime left at which a certificate renews without ARI (half under 10 days). */
export function lifetimeShare(lifetimeMs: number): number {
  return lifetimeMs < 10 * DAY ? 1 / 2 : 1 / 3;
}

/**
 * The moments at which the timing rules make a valid certificate due. The expiry and the
 * emergency floor (a twentieth of the lifetime left) always count. With an ARI window for this
 * certificate, the CA's window decides; without one (ARI off, not offered or not answered yet),
 * lematt's rules (`generateNewCertsAfterDays`, else `reauthorizeDays` with its first-third guard)
 * and the lifetime rule (a third of the lifetime left, half under 10 days) do.
 */
function timingMoments(start: number, end: number, policy: RenewalPolicy, ari: AriWindow | null): Moment[] {
  const life = end - start;
  const moments: Moment[] = [
    { at: end, basis: 'expiry', reason: () => `expires ${new Date(end).toISOString()}` },
    { at: end - life / 20, basis: 'lifetime', reason: (r) => `${days(r)} left, under a twentieth of its ${days(life)} lifetime` },
  ];
  if (ari) {
    const endedAt = ari.end.getTime();
    const why = ari.explanationURL ? `; see ${ari.explanationURL}` : '';
    moments.push({
      at: Math.min(ari.renewAt.getTime(), endedAt),
      basis: 'ari',
      reason: (r, t) =>
        endedAt <= t
          ? `the CA's renewal window ended ${ari.end.toISOString()}${why}`
          : `in the CA's renewal window ${ari.start.toISOString()} – ${ari.end.toISOString()}${why}`,
    });
    return moments;
  }
  const n = policy.generateNewCertsAfterDays;
  if (n > 0) {
    moments.push({ at: start + n * DAY, basis: 'lematt', reason: () => `older than generateNewCertsAfterDays (${n}d)` });
  } else if (policy.reauthorizeDays > 0) {
    const window = policy.reauthorizeDays * DAY;
    const guarded = end - window < start + life / 3;
    moments.push({
      at: Math.max(end - window, start + life / 3),
      basis: 'lematt',
      reason: (r) => (guarded ? `${days(r)} left; a third of its life has passed (reauthorizeDays ${policy.reauthorizeDays}d is longer than two thirds of it)` : `${days(r)} left, inside reauthorizeDays (${policy.reauthorizeDays}d)`),
      warning: guarded
        ? `reauthorizeDays (${policy.reauthorizeDays}d) is larger than two thirds of this certificate's lifetime (${days(life)}); ` +
          'renewing once a third of its life has passed instead of on every run'
        : undefined,
    });
  }
  const share = lifetimeShare(life);
  moments.push({ at: end - life * share, basis: 'lifetime', reason: (r) => `${days(r)} left, ${share === 0.5 ? 'half' : 'a third'} of its ${days(life)} lifetime` });
  return moments;
}

/**
 * Decides whether one certificate is issued, renewed or left alone, and when it will be due.
 * Pure: `now` and the CA's window are passed in.
 *
 * First the files: a missing or unreadable certificate, a key that is unreadable or not what
 * the config asks for, other names than the line, or a certificate for another key make it due
 * now. Then the timing rules of {@link timingMoments}: the earliest moment decides, and the
 * certificate is due once it has passed.
 *
 * `want` holds the line's identifiers, lowercased and deduplicated. `force` (`--force`) renews a
 * certificate that is not due.
 */
export function decideRenewal(want: readonly string[], obs: Observed, policy: RenewalPolicy, now: Date, ari: AriWindow | null = null, force = false): Decision {
  const keys = keyPlan(want, obs, policy);
  const base = { newKey: keys.newKey, newCsr: keys.newCsr, warnings: [] as string[] };
  const cert = obs.cert;
  const notAfter = cert.state === 'ok' ? cert.notAfter : null;
  const due = (action: 'issue' | 'renew', reason: string): Decision => ({ action, reason, notAfter, renewAt: now, basis: 'files', ...base });
  if (cert.state === 'missing') return due('issue', keys.why ?? 'no certificate yet');
  if (cert.state === 'unreadable') return due('renew', `certificate unreadable (${cert.error})${keys.why ? `; ${keys.why}` : ''}`);
  if (keys.why) return due('renew', `${keys.why}; a new key replaces it`);
  if (!sameNames(cert.names, want)) {
    const added = want.filter((n) => !cert.names.includes(n));
    const removed = cert.names.filter((n) => !want.includes(n));
    return due('renew', `names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')})`);
  }
  if (obs.key.state === 'ok' && cert.spkiSha256 !== obs.key.spkiSha256) return due('renew', 'certificate does not belong to the key beside it');

  const t = now.getTime();
  const moments = timingMoments(cert.notBefore.getTime(), cert.notAfter.getTime(), policy, ari);
  const first = moments.reduce((a, b) => (b.at < a.at ? b : a));
  const warnings = moments.flatMap((m) => (m.warning ? [m.warning] : []));
  const remaining = cert.notAfter.getTime() - t;
  const renewAt = new Date(first.at);
  if (remaining <= 0) return { ...base, action: 'renew', reason: `expired ${cert.notAfter.toISOString()}`, notAfter, renewAt, basis: 'expiry', warnings };
  if (first.at <= t) return { ...base, action: 'renew', reason: first.reason(remaining, t), notAfter, renewAt, basis: first.basis, warnings };
  if (force) return { ...base, action: 'renew', reason: `forced (--force); ${days(remaining)} left`, notAfter, renewAt: now, basis: 'forced', warnings };
  const by = first.basis === 'ari' ? "the CA's renewal window" : first.basis === 'lematt' ? 'lematt.conf' : 'its lifetime';
  return {
    ...base,
    action: 'skip',
    reason: `${days(remaining)} left; renews ${renewAt.toISOString()} (${by})`,
    notAfter,
    renewAt,
    basis: first.basis,
    warnings,
    newKey: false,
    newCsr: false,
  };
}
