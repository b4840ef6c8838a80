/**
 * The directory (RFC 8555 §7.1.1) devices start from, and fresh nonces (§7.2).
 */
import { randomBytes } from 'node:crypto';
import type { BrokerStore } from '../store/store.ts';
import type { Answer, Exchange } from './options.ts';

/** How long an issued nonce stays usable. */
export const NONCE_LIFETIME_MS = 3_600_000;

/** Creates and remembers a new nonce; resolves to its value. */
export async function issueNonce(store: BrokerStore, now: Date): Promise<string> {
  const value = randomBytes(16).toString('base64url');
  await store.addNonce(value, new Date(now.getTime() + NONCE_LIFETIME_MS));
  return value;
}

/** GET /directory. `certfleetAddresses` is certfleet's own member, for `certfleet address`. */
export function directory(x: Exchange): Answer {
  const { urls, opts } = x;
  const meta: Record<string, unknown> = { externalAccountRequired: true };
  if (opts.profile) meta.profiles = { [opts.profile]: 'the profile this broker asks of its CA' };
  return {
    status: 200,
    json: {
      newNonce: urls.newNonce,
      newAccount: urls.newAccount,
      newOrder: urls.newOrder,
      ...(opts.ari ? { renewalInfo: urls.renewalInfo } : {}),
      certfleetAddresses: urls.address,
      meta,
    },
  };
}

/** HEAD /acme/new-nonce answers 200, GET 204 (RFC 8555 §7.2); the boundary adds the nonce. */
export function newNonce(x: Exchange): Answer {
  return { status: x.req.method === 'HEAD' ? 200 : 204 };
}
