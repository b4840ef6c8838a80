/**
 * Failure memory: a certificate whose order failed is not ordered again before its back-off
 * ends. 1 hour after the first failure, doubling per consecutive failure up to 24 hours, and
 * never longer than a quarter of the time the certificate has left (at least an hour), so a
 * failing renewal is still tried often enough before expiry. A rateLimited answer's
 * Retry-After always holds. Pure: `now` is passed in.
 */
import type { FailureRecord } from '../store/cert-state.ts';

const HOUR = 3_600_000;
export const BACKOFF_FIRST_MS = HOUR;
export const BACKOFF_MAX_MS = 24 * HOUR;

/** What a failed order left to remember. */
export interface FailureInput {
  message: string;
  /** ACME problem type (`rateLimited`, `unauthorized`, …) or error class. */
  errorType: string;
  /** The CA's Retry-After, when it sent one. */
  retryAfter: Date | null;
}

/** The back-off after `count` consecutive failures, before the cap by time left. */
export function backoffDelay(count: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, count - 1));
}

/**
 * The record after one more failure under `context` (the config and line). A record made under
 * another context starts over. `notAfter` is the certificate on disk's end, if any.
 */
export function recordFailure(prev: FailureRecord | undefined, context: string, failure: FailureInput, now: Date, notAfter: Date | null): FailureRecord {
  const carried = prev && prev.context === context ? prev : undefined;
  const count = (carried?.count ?? 0) + 1;
  let delay = backoffDelay(count);
  if (notAfter) delay = Math.min(delay, Math.max(HOUR, (notAfter.getTime() - now.getTime()) / 4));
  const rateLimited = failure.errorType === 'rateLimited' && failure.retryAfter ? failure.retryAfter.toISOString() : null;
  return {
    context,
    count,
    first: carried?.first ?? now.toISOString(),
    last: now.toISOString(),
    error: failure.message,
    errorType: failure.errorType,
    until: new Date(now.getTime() + delay).toISOString(),
    rateLimitedUntil: rateLimited ?? (carried?.rateLimitedUntil && carried.rateLimitedUntil > now.toISOString() ? carried.rateLimitedUntil : null),
  };
}

/** The failure record that still applies under `context` (a changed config or line clears it). */
export function currentFailure(record: FailureRecord | undefined, context: string): FailureRecord | null {
  return record && record.context === context ? record : null;
}

/**
 * Until when a new order must wait, or null when it may go now. `retry` (`--retry`, `--force`)
 * skips the back-off but never a rateLimited Retry-After.
 */
export function orderBlockedUntil(record: FailureRecord | null, now: Date, retry: boolean): Date | null {
  if (!record) return null;
  const limits = [record.rateLimitedUntil, retry ? null : record.until].filter((t): t is string => t !== null).map((t) => Date.parse(t));
  const until = Math.max(0, ...limits);
  return until > now.getTime() ? new Date(until) : null;
}
