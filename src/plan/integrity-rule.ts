import type { Observed } from '../store/observed.ts';

/**
 * What the rule decides: a renewal's Decision (renewal.ts) narrowed to what it can say; declared
 * here, not imported, so that renewal.ts, which calls this rule, is not imported back.
 */
export interface IntegrityDecision {
  action: 'renew' | 'fail';
  reason: string;
  notAfter: Date | null;
  newKey: boolean;
  newCsr: boolean;
  warnings: string[];
}

/** What the key rule decided: whether a new key and CSR are made, and why (null when routine). */
export interface KeyChoice {
  newKey: boolean;
  newCsr: boolean;
  why: string | null;
}

/**
 * The integrity rule, checked before every other: damage the leaf's dates cannot show.
 * - something certfleet must not replace blocks a path it writes (a directory where the key
 *   belongs): `fail`, with what to do, and nothing is requested from the CA;
 * - the key is gone while its certificate is there: renew with a new key (the certificate
 *   alone is useless to the web server);
 * - the certificate file's chain is damaged (crypto/chain.ts): renew (the order URL that could
 *   fetch the chain again is not kept), reusing the key when it is sound.
 * Returns null when none applies. Pure.
 */
export function integrityRule(obs: Observed, keys: KeyChoice): IntegrityDecision | null {
  const integrity = obs.integrity;
  const notAfter = obs.cert.state === 'ok' ? obs.cert.notAfter : null;
  if (integrity?.blocked) return { action: 'fail', reason: integrity.blocked, notAfter, newKey: false, newCsr: false, warnings: [] };
  if (obs.cert.state !== 'ok') return null;
  if (obs.key.state === 'missing') {
    return { action: 'renew', reason: 'key missing; a new key and certificate replace it', notAfter, newKey: true, newCsr: true, warnings: [] };
  }
  if (integrity?.chain) {
    const reason = `certificate chain damaged (${integrity.chain})`;
    return { action: 'renew', reason: keys.why ? `${reason}; ${keys.why}` : reason, notAfter, newKey: keys.newKey, newCsr: keys.newCsr, warnings: [] };
  }
  return null;
}
