/**
 * The ARI observation step (RFC 9773): asks the CA's renewalInfo for each certificate whose
 * answer is due and records the answers in the state store. Never fails a run: an unreachable
 * or absent ARI is recorded as such and asked again later, and the local rules decide meanwhile.
 */
import { fetchRenewalInfo, RenewalInfoError, type DirectoryInfo } from '../acme/renewal-info.ts';
import { applyAriAnswer, applyAriError, POLL_DEFAULT_MS, POLL_MAX_MS, POLL_MIN_MS, POLL_NO_ARI_MS } from '../plan/ari-schedule.ts';
import type { CertStateStore } from '../store/cert-state.ts';
import { mapLimit } from './load-plan.ts';

/** One certificate to ask about: its state key and CertID. */
export interface PollTarget {
  key: string;
  certId: string;
}

/** What {@link pollRenewalInfo} needs. */
export interface PollOptions {
  now: Date;
  random: () => number;
  timeoutMs: number;
  /** Progress, for a person watching (silent under `--cron`). */
  info: (message: string) => void;
}

/**
 * Polls every target (8 at a time) against `dir`; `dir` null means the directory could not be
 * fetched. Returns how many answers were windows.
 */
export async function pollRenewalInfo(targets: readonly PollTarget[], dir: DirectoryInfo | null, state: CertStateStore, opts: PollOptions): Promise<number> {
  const record = (t: PollTarget, update: (prev: ReturnType<CertStateStore['get']>['ari']) => NonNullable<ReturnType<CertStateStore['get']>['ari']>) => {
    const prev = state.get(t.key);
    state.set(t.key, { ...prev, ari: update(prev.ari) });
  };
  if (!dir || !dir.renewalInfo) {
    const why = dir ? 'the directory offers no renewalInfo' : 'the directory could not be fetched';
    const wait = dir ? POLL_NO_ARI_MS : POLL_DEFAULT_MS;
    for (const t of targets) record(t, (prev) => applyAriError(prev, t.certId, why, opts.now, wait));
    if (targets.length) opts.info(`ARI: ${why}; lematt's rules and the lifetime decide`);
    return 0;
  }
  const base = dir.renewalInfo;
  let windows = 0;
  await mapLimit(targets, 8, async (t) => {
    try {
      const answer = await fetchRenewalInfo(base, t.certId, opts.timeoutMs, opts.now);
      record(t, (prev) => applyAriAnswer(prev, t.certId, answer, opts.now, opts.random));
      windows++;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const after = err instanceof RenewalInfoError && err.retryAfter ? err.retryAfter.getTime() - opts.now.getTime() : POLL_DEFAULT_MS;
      record(t, (prev) => applyAriError(prev, t.certId, message, opts.now, Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, after))));
      opts.info(`ARI: ${message}; asked again later`);
    }
  });
  return windows;
}
