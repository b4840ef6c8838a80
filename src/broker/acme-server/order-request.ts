/**
 * The pure checks of a newOrder payload (RFC 8555 §7.4) against a device's enrollment: which
 * names it may hold, which profile the broker offers, and what is not supported.
 */
import { AcmeProblem, malformed } from './problem.ts';

/** What a checked newOrder asks for. */
export interface OrderRequest {
  /** Lower case, deduplicated, sorted. */
  identifiers: string[];
  /** The CertID the order replaces (RFC 9773 §5), not yet checked against the store. */
  replaces: string | null;
}

const MAX_IDENTIFIERS = 100;

/**
 * Checks `payload` for a device enrolled for `enrolled` names, with `profile` the only one
 * offered (null: none may be named). Throws malformed, unsupportedIdentifier,
 * rejectedIdentifier (naming every refused name) or invalidProfile.
 */
export function checkOrderRequest(payload: Record<string, unknown> | null, enrolled: readonly string[], profile: string | null): OrderRequest {
  if (!payload) throw malformed('newOrder needs a payload');
  const list = payload.identifiers;
  if (!Array.isArray(list) || list.length === 0) throw malformed('newOrder: "identifiers" must be a non-empty list');
  if (list.length > MAX_IDENTIFIERS) throw malformed(`newOrder: at most ${MAX_IDENTIFIERS} identifiers`);
  const names = new Set<string>();
  for (const id of list as unknown[]) {
    const { type, value } = (id ?? {}) as Record<string, unknown>;
    if (typeof value !== 'string' || value.length === 0 || value.length > 253) throw malformed('newOrder: every identifier needs a "value"');
    if (type !== 'dns') throw new AcmeProblem('unsupportedIdentifier', `newOrder: identifier type ${JSON.stringify(type)} is not supported; only "dns"`);
    names.add(value.toLowerCase());
  }
  const allowed = new Set(enrolled);
  const refused = [...names].filter((n) => !allowed.has(n)).sort();
  if (refused.length > 0) {
    const shown = refused.slice(0, 10).map((n) => JSON.stringify(n.slice(0, 80))).join(', ');
    throw new AcmeProblem('rejectedIdentifier', `this device is not enrolled for ${shown}${refused.length > 10 ? ` and ${refused.length - 10} more` : ''}`);
  }
  if (payload.notBefore !== undefined || payload.notAfter !== undefined) {
    throw malformed('newOrder: notBefore and notAfter are not supported; the CA chooses the validity');
  }
  if (payload.profile !== undefined && payload.profile !== profile) {
    throw new AcmeProblem('invalidProfile', profile ? `newOrder: the only profile offered is ${JSON.stringify(profile)}` : 'newOrder: this broker offers no profiles');
  }
  const replaces = payload.replaces;
  if (replaces !== undefined && (typeof replaces !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(replaces))) {
    throw malformed('newOrder: "replaces" must be an ARI CertID (base64url "." base64url)');
  }
  return { identifiers: [...names].sort(), replaces: replaces ?? null };
}

/** Whether two sorted identifier lists are the same. */
export function sameIdentifiers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
