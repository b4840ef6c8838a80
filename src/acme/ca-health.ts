import { AcmeNetworkError } from './errors.ts';

/** The CA stopped answering earlier in this run: later requests fail at once with this. */
export class CaUnresponsiveError extends Error {
  override name = 'CaUnresponsiveError';
  constructor(readonly url: string, readonly spentMs: number) {
    super(`${url}: the CA accepted connections but did not answer for ${Math.round(spentMs / 1000)} s in this run; not asked again until the next run`);
  }
}

/** The run was interrupted (SIGTERM, SIGINT): no further request is made. */
export class RunInterruptedError extends Error {
  override name = 'RunInterruptedError';
  constructor(what: string) {
    super(`${what}: not done, the run was interrupted`);
  }
}

/** Request failures that mean the CA took the connection and never answered in time. */
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED']);

/**
 * One run's view of the CA's health, shared by every order of the run: a CA that accepts
 * connections and never answers costs each request its full timeout, and retries, across every
 * due certificate. Once the time lost to unanswered requests reaches `budgetMs`, every later
 * request of the run fails at once with {@link CaUnresponsiveError}. It also carries the run's
 * abort signal, so an interrupted run makes no further request and a request in flight is given up.
 */
export class CaHealth {
  private spentMs = 0;

  constructor(readonly url: string, readonly budgetMs: number, readonly signal?: AbortSignal) {}

  /** True once no further request should be made. */
  get stopped(): boolean {
    return this.spentMs >= this.budgetMs || Boolean(this.signal?.aborted);
  }

  /** Runs one request: refused at once when stopped; a request in flight is abandoned on abort. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.signal?.aborted) throw new RunInterruptedError(what);
    if (this.spentMs >= this.budgetMs) throw new CaUnresponsiveError(this.url, this.spentMs);
    if (!this.signal) return fn();
    const signal = this.signal;
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RunInterruptedError(what));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([fn(), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Notes a failed request: an unanswered one (timeout) counts `timeoutMs` against the budget.
   * Returns true when the caller must not retry (stopped now).
   */
  note(err: unknown, timeoutMs: number): boolean {
    if (err instanceof AcmeNetworkError && TIMEOUT_CODES.has(err.code)) this.spentMs += timeoutMs;
    return this.stopped;
  }
}
