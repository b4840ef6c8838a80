/**
 * The JSON resources devices read (RFC 8555 §7.1.3–7.1.4): orders, and the authorizations and
 * challenges that are valid from the start because the broker proves the names upstream.
 */
import { createHash } from 'node:crypto';
import type { BrokerOrder } from '../types.ts';
import type { AcmeUrls } from './urls.ts';

/** How an order looks to its device at `now`: a `ready` order past `expiresAt` is `invalid` (RFC 8555 §7.1.6). */
export function visibleStatus(order: BrokerOrder, now: Date): BrokerOrder['status'] {
  return order.status === 'ready' && Date.parse(order.expiresAt) <= now.getTime() ? 'invalid' : order.status;
}

/** The order object. */
export function orderJson(order: BrokerOrder, urls: AcmeUrls, now: Date, profile: string | null): Record<string, unknown> {
  const status = visibleStatus(order, now);
  const json: Record<string, unknown> = {
    status,
    expires: order.expiresAt,
    identifiers: order.identifiers.map((value) => ({ type: 'dns', value })),
    authorizations: order.identifiers.map((_, n) => urls.authorization(order.id, n)),
    finalize: urls.finalize(order.id),
  };
  if (profile) json.profile = profile;
  if (order.replaces) json.replaces = order.replaces;
  if (status === 'valid' && order.certificate) json.certificate = urls.certificate(order.certificate);
  if (status === 'invalid') {
    const error = order.error ?? { type: 'urn:ietf:params:acme:error:malformed', detail: 'order expired before it was finalized' };
    json.error = { ...error, status: 403 };
  }
  return json;
}

/** A stable challenge token for an order's nth name: the challenge is never fetched, but §8 requires one. */
function token(order: BrokerOrder, n: number): string {
  return createHash('sha256').update(`${order.id}/${n}`).digest('base64url');
}

/** The challenge object of the nth name: dns-01, already valid. */
export function challengeJson(order: BrokerOrder, n: number, urls: AcmeUrls): Record<string, unknown> {
  return { type: 'dns-01', url: urls.challenge(order.id, n), status: 'valid', token: token(order, n), validated: order.createdAt };
}

/** The authorization object of the nth name (RFC 8555 §7.1.4; wildcards without `*.`). */
export function authorizationJson(order: BrokerOrder, n: number, urls: AcmeUrls): Record<string, unknown> {
  const name = order.identifiers[n];
  const wildcard = name.startsWith('*.');
  return {
    status: 'valid',
    expires: order.expiresAt,
    identifier: { type: 'dns', value: wildcard ? name.slice(2) : name },
    challenges: [challengeJson(order, n, urls)],
    ...(wildcard ? { wildcard: true } : {}),
  };
}
