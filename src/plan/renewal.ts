import type { Observed } from '../store/observed.ts';
import { integrityRule } from './integrity-rule.ts';

export type { Observed };

/** The renewal settings of lematt.conf that matter here. */
export interface RenewalPolicy {
  reauthorizeDays: number;
  generateNewCertsAfterDays: number;
  alwaysGenerateNewKeys: boolean;
}

/** The decision for one certificate; a plain, serialisable value. */
export interface Decision {
  /** `fail`: the certificate cannot be renewed safely as things are; `reason` says what to do. */
  action: 'issue' | 'renew' | 'skip' | 'fail';
  reason: string;
  notAfter: Date | null;
  /** A new key must be generated (else the existing key is reused). */
  newKey: boolean;
  /** A new CSR must be made (else the existing one is submitted). */
  newCsr: boolean;
  warnings: string[];
}

const DAY = 86_400_000;

function days(ms: number): string {
  return `${Math.round((ms / DAY) * 10) / 10}d`;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((n) => sa.has(n));
}

function keyPlan(want: readonly string[], obs: Observed, policy: RenewalPolicy): { newKey: boolean; newCsr: boolean; why: string | null } {
  const k = obs.key;
  if (k.state === 'missing') return { newKey: true, newCsr: true, why: null };
  if (k.state === 'unreadable') return { newKey: true, newCsr: true, why: `key unreadable (${k.error}); a new key replaces it` };
  if (!k.matchesSpec) return { newKey: true, newCsr: true, why: `key is ${k.description}, not what lematt.conf asks for` };
  if (policy.alwaysGenerateNewKeys) return { newKey: true, newCsr: true, why: null };
  const c = obs.csr;
  // lematt submitted an old CSR after the key changed (lematt.md §9 A9): check it belongs.
  const newCsr = c.state !== 'ok' || c.spkiSha256 !== k.spkiSha256 || !sameNames(c.names, want);
  return { newKey: false, newCsr, why: null };
}

/**
 * Decides whether one certificate is issued, renewed or left alone. Pure: `now` is passed in.
 *
 * Renews when the certificate is missing, unreadable, expired, for other names than the line,
 * not for the key beside it, inside `reauthorizeDays` of its end, or (when
 * `generateNewCertsAfterDays` is set, which replaces the window as in lematt) older than that
 * many days counted from its own notBefore. A window that reaches into the first third of a
 * certificate's life (one larger than short-lived certificates) does not renew it there: it warns
 * instead, so short lifetimes cannot cause a renewal on every run. When neither rule can fire
 * before expiry, it renews once a third of the lifetime is left.
 *
 * `want` holds the line's identifiers, lowercased and deduplicated.
 */
export function decideRenewal(want: readonly string[], obs: Observed, policy: RenewalPolicy, now: Date): Decision {
  const keys = keyPlan(want, obs, policy);
  const damaged = integrityRule(obs, keys);
  if (damaged) return damaged;
  const warnings: string[] = [];
  const renew = (reason: string): Decision => ({
    action: 'renew',
    reason: keys.why ? `${reason}; ${keys.why}` : reason,
    notAfter: obs.cert.state === 'ok' ? obs.cert.notAfter : null,
    newKey: keys.newKey,
    newCsr: keys.newCsr,
    warnings,
  });
  const cert = obs.cert;
  if (cert.state === 'missing') {
    return { action: 'issue', reason: keys.why ?? 'no certificate yet', notAfter: null, newKey: keys.newKey, newCsr: keys.newCsr, warnings };
  }
  if (cert.state === 'unreadable') return { ...renew(`certificate unreadable (${cert.error})`), notAfter: null };
  if (keys.why) return renew(keys.why.replace(/; a new key replaces it$/, ''));
  if (!sameNames(cert.names, want)) {
    const added = want.filter((n) => !cert.names.includes(n));
    const removed = cert.names.filter((n) => !want.includes(n));
    return renew(`names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')})`);
  }
  if (obs.key.state === 'ok' && cert.spkiSha256 !== obs.key.spkiSha256) return renew('certificate does not belong to the key beside it');

  const t = now.getTime();
  const start = cert.notBefore.getTime();
  const end = cert.notAfter.getTime();
  const lifetime = end - start;
  const remaining = end - t;
  const age = t - start;
  if (remaining <= 0) return renew(`expired ${cert.notAfter.toISOString()}`);

  const n = policy.generateNewCertsAfterDays;
  if (n > 0) {
    if (age > n * DAY) return renew(`older than generateNewCertsAfterDays (${n}d; issued ${days(age)} ago)`);
    if (n * DAY < lifetime) return skip(`${days(remaining)} left; renews at ${n}d of age`);
  } else {
    const window = policy.reauthorizeDays * DAY;
    if (remaining < window) {
      if (age >= lifetime / 3) return renew(`${days(remaining)} left, inside reauthorizeDays (${policy.reauthorizeDays}d)`);
      warnings.push(
        `reauthorizeDays (${policy.reauthorizeDays}d) is larger than two thirds of this certificate's lifetime (${days(lifetime)}); ` +
          'renewing once a third of its life has passed instead of on every run',
      );
      return skip(`${days(remaining)} left; in its first third of life`);
    }
    if (window > 0 || remaining > lifetime / 3) return skip(`${days(remaining)} left; renews inside ${policy.reauthorizeDays}d`);
  }
  // Neither rule can fire before expiry (e.g. a 6-day certificate and generateNewCertsAfterDays 7).
  if (remaining < lifetime / 3) return renew(`${days(remaining)} left, a third of its ${days(lifetime)} lifetime`);
  return skip(`${days(remaining)} left; renews when a third of its ${days(lifetime)} lifetime is left`);

  function skip(reason: string): Decision {
    return { action: 'skip', reason, notAfter: cert.state === 'ok' ? cert.notAfter : null, newKey: false, newCsr: false, warnings };
  }
}
