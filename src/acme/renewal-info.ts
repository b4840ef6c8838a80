/**
 * ARI over plain HTTPS (RFC 9773): the directory's `renewalInfo` and `meta.profiles`, and one
 * certificate's suggested window. renewalInfo is an unauthenticated GET, so this needs no account
 * and loads none of acme-client: a run whose only network need is a due poll stays light.
 */
import type { AriAnswer } from '../plan/ari-schedule.ts';
import { parseRetryAfter } from './errors.ts';

/** What a run needs of a directory before polling or ordering. */
export interface DirectoryInfo {
  /** The renewalInfo base URL, or null when the CA does not offer ARI. */
  renewalInfo: string | null;
  /** `meta.profiles` (name → description), or null when the CA lists none. */
  profiles: Record<string, string> | null;
}

/** A renewalInfo request that failed; `retryAfter` is the CA's, when it sent one. */
export class RenewalInfoError extends Error {
  constructor(message: string, readonly retryAfter: Date | null = null) {
    super(message);
    this.name = 'RenewalInfoError';
  }
}

async function get(url: string, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new RenewalInfoError(`${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
}

async function json(resp: Response, url: string): Promise<Record<string, unknown>> {
  const text = await resp.text();
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new RenewalInfoError(`${url}: answer is not a JSON object`);
}

/** Fetches the directory (fresh in each run that needs it: CAs have moved their ARI path before). */
export async function fetchDirectory(url: string, timeoutMs: number): Promise<DirectoryInfo> {
  const resp = await get(url, timeoutMs);
  if (!resp.ok) throw new RenewalInfoError(`${url}: HTTP ${resp.status}`);
  const dir = await json(resp, url);
  const meta = (typeof dir.meta === 'object' && dir.meta !== null ? dir.meta : {}) as Record<string, unknown>;
  const profiles = typeof meta.profiles === 'object' && meta.profiles !== null && !Array.isArray(meta.profiles) ? (meta.profiles as Record<string, string>) : null;
  return { renewalInfo: typeof dir.renewalInfo === 'string' ? dir.renewalInfo : null, profiles };
}

/**
 * Asks for the suggested window of one certificate. Throws {@link RenewalInfoError} for any
 * failure: no answer, an error status, or a body without a readable window.
 */
export async function fetchRenewalInfo(base: string, certId: string, timeoutMs: number, now: Date): Promise<AriAnswer> {
  const url = `${base.replace(/\/$/, '')}/${certId}`;
  const resp = await get(url, timeoutMs);
  const retryAfter = parseRetryAfter(resp.headers.get('retry-after') ?? undefined, now);
  if (!resp.ok) throw new RenewalInfoError(`${url}: HTTP ${resp.status}`, retryAfter);
  const body = await json(resp, url);
  const w = body.suggestedWindow as { start?: unknown; end?: unknown } | undefined;
  const start = typeof w?.start === 'string' ? new Date(w.start) : null;
  const end = typeof w?.end === 'string' ? new Date(w.end) : null;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw new RenewalInfoError(`${url}: no suggestedWindow with start and end`, retryAfter);
  return {
    start,
    end,
    explanationURL: typeof body.explanationURL === 'string' ? body.explanationURL : null,
    retryAfterSeconds: retryAfter ? Math.max(0, Math.round((retryAfter.getTime() - now.getTime()) / 1000)) : null,
  };
}
