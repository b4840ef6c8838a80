/**
 * What becomes of a device order whose upstream attempt failed: tried again later (a network
 * failure, a timeout, a 5xx, a rate limit, DNS that did not propagate) or made `invalid` with an
 * ACME problem the device can read (the CA refuses the name, the CSR or the key; or the order
 * has failed too often). Pure: `now` is passed in.
 */
import { AcmeNetworkError, AcmeProblemError, AcmeTimeoutError } from '../../acme/errors.ts';
import type { BrokerOrder } from '../types.ts';

const ACME = 'urn:ietf:params:acme:error:';
/** Attempts after which any failure is final. */
export const MAX_ATTEMPTS = 6;
/** `unauthorized` (the CA saw no proof) is final from this attempt on. */
export const UNAUTHORIZED_ATTEMPTS = 3;
/** First back-off; doubling per attempt up to {@link BACKOFF_MAX_MS}. */
export const BACKOFF_FIRST_MS = 30_000;
export const BACKOFF_MAX_MS = 30 * 60_000;

/** Problems no retry can cure: the CA refuses what the device asked for. */
const PERMANENT = new Set(['rejectedIdentifier', 'caa', 'badCSR', 'badPublicKey', 'badSignatureAlgorithm', 'unsupportedIdentifier', 'malformed']);

/** The decision for one failed attempt. */
export type FailureDecision =
  | { kind: 'retry'; attempts: number; notBefore: Date; reason: string }
  | { kind: 'invalid'; attempts: number; problem: { type: string; detail: string } };

/** An error the broker itself finds final (a certificate for another key, a name outside every zone). */
export class PermanentOrderError extends Error {
  override name = 'PermanentOrderError';
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

/** The back-off after `attempts` failed attempts. */
export function backoffMs(attempts: number, firstMs = BACKOFF_FIRST_MS): number {
  return Math.min(BACKOFF_MAX_MS, firstMs * 2 ** Math.max(0, attempts - 1));
}

/** Decides what `err`, the failure of `order`'s attempt number `order.attempts + 1`, leads to. */
export function decideFailure(order: BrokerOrder, err: unknown, now: Date, firstBackoffMs = BACKOFF_FIRST_MS): FailureDecision {
  const attempts = order.attempts + 1;
  const message = err instanceof Error ? err.message : String(err);
  const invalid = (type: string, detail: string): FailureDecision => ({ kind: 'invalid', attempts, problem: { type: type.startsWith('urn:') ? type : ACME + type, detail } });
  if (err instanceof PermanentOrderError) return invalid(err.type, message);
  if (err instanceof AcmeProblemError) {
    if (PERMANENT.has(err.shortType)) return invalid(err.type, err.detail || message);
    if (err.shortType === 'unauthorized' && attempts >= UNAUTHORIZED_ATTEMPTS) return invalid(err.type, err.detail || message);
  }
  if (attempts >= MAX_ATTEMPTS) {
    const type = err instanceof AcmeProblemError ? err.type : ACME + 'serverInternal';
    return invalid(type, `the CA gave no certificate after ${attempts} attempts; last: ${message}`);
  }
  let at = now.getTime() + backoffMs(attempts, firstBackoffMs);
  if (err instanceof AcmeProblemError && err.retryAfter) at = Math.max(at, err.retryAfter.getTime());
  return { kind: 'retry', attempts, notBefore: new Date(at), reason: transientKind(err) };
}

/** A short word for the log: why the attempt will be repeated. */
function transientKind(err: unknown): string {
  if (err instanceof AcmeNetworkError) return 'network';
  if (err instanceof AcmeTimeoutError) return 'timeout';
  if (err instanceof AcmeProblemError) return err.shortType;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'error';
}

/**
 * Seconds a device polling `order` should wait (its Retry-After): until `notBefore` when it is
 * later than now, else `fallback` (the broker is working on it).
 */
export function retryAfterSeconds(order: BrokerOrder, now: Date, fallback = 3): number {
  if (order.notBefore) {
    const wait = Math.ceil((Date.parse(order.notBefore) - now.getTime()) / 1000);
    if (wait > fallback) return wait;
  }
  return fallback;
}
