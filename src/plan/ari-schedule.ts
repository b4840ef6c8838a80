/**
 * When to ask the CA's renewalInfo again, and what its answers mean for one certificate
 * (RFC 9773 §4.2-4.3). Pure: `now` and the random source are passed in.
 */
import type { AriRecord } from '../store/cert-state.ts';
import type { AriWindow } from './renewal.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Retry-After bounds (RFC 9773 §4.3: at least a minute, at most a day is sensible). */
export const POLL_MIN_MS = MINUTE;
export const POLL_MAX_MS = 24 * HOUR;
/** Without a Retry-After (not what RFC 9773 asks of a CA), and after an error: 6 hours. */
export const POLL_DEFAULT_MS = 6 * HOUR;
/** How often a scheduled run comes (the README's cron line and timer): the draw leaves this much of a window after the moment. */
export const RUN_INTERVAL_MS = HOUR;
/** A directory without renewalInfo is asked again a day later. */
export const POLL_NO_ARI_MS = 24 * HOUR;

/** One renewalInfo answer as the CA sent it. */
export interface AriAnswer {
  start: Date;
  end: Date;
  explanationURL: string | null;
  /** Retry-After in seconds, or null when the answer had none. */
  retryAfterSeconds: number | null;
}

/** True when `certId` has no answer yet, or its Retry-After has passed. */
export function ariPollDue(record: AriRecord | undefined, certId: string, now: Date): boolean {
  return !record || record.certId !== certId || Date.parse(record.nextPoll) <= now.getTime();
}

/** The window the decision uses for `certId`: null when there is none for this very certificate. */
export function ariWindowFor(record: AriRecord | undefined, certId: string | null): AriWindow | null {
  const w = record && certId && record.certId === certId ? record.window : null;
  if (!w) return null;
  return { start: new Date(w.start), end: new Date(w.end), renewAt: new Date(w.renewAt), explanationURL: w.explanationURL };
}

function clampPoll(seconds: number | null): number {
  if (seconds === null || !Number.isFinite(seconds)) return POLL_DEFAULT_MS;
  return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, seconds * 1000));
}

/**
 * The record after an answer. The moment to renew is drawn once, uniformly inside the window
 * less its last hour,
 * and kept while the CA keeps the same window (so hourly runs do not re-draw it); a changed
 * window gets a new draw. An answer whose end is not after its start is no answer: treated as
 * an error. `random` returns a number in [0, 1).
 */
export function applyAriAnswer(prev: AriRecord | undefined, certId: string, answer: AriAnswer, now: Date, random: () => number): AriRecord {
  const start = answer.start.getTime();
  const end = answer.end.getTime();
  if (!(end > start)) return applyAriError(prev, certId, `renewalInfo window ends (${answer.end.toISOString()}) before it starts`, now);
  const same = prev?.certId === certId && prev.window && Date.parse(prev.window.start) === start && Date.parse(prev.window.end) === end;
  // Drawn from the window less its last hour (less its second half when shorter than 2 hours),
  // so that the hourly run after the moment still falls inside the window: renewing after its
  // end would lose the CA's rate-limit exemption.
  const span = end - start - Math.min(RUN_INTERVAL_MS, (end - start) / 2);
  const renewAt = same ? prev.window!.renewAt : new Date(start + Math.floor(random() * span)).toISOString();
  return {
    certId,
    nextPoll: new Date(now.getTime() + clampPoll(answer.retryAfterSeconds)).toISOString(),
    window: { start: answer.start.toISOString(), end: answer.end.toISOString(), renewAt, explanationURL: answer.explanationURL },
    error: null,
  };
}

/**
 * The record after a failed poll: asked again after `waitMs` (6 hours by default), keeping the
 * last window of the same certificate, which still holds.
 */
export function applyAriError(prev: AriRecord | undefined, certId: string, message: string, now: Date, waitMs = POLL_DEFAULT_MS): AriRecord {
  return {
    certId,
    nextPoll: new Date(now.getTime() + waitMs).toISOString(),
    window: prev?.certId === certId ? prev.window : null,
    error: message,
  };
}
