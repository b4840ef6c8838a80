/**
 * Awaiting prepare commands: a prepare command often starts the server that answers a name's
 * challenge on another host (`ssh shop certfleet forward …`), which takes a second or two to
 * listen. Asking the CA before that fails the validation and counts against the CA's limits,
 * so a name with prepare commands is fetched like the pre-flight does, again and again, until
 * it is served or `prepareWait` runs out; then the CA is asked either way.
 */
import { describePreflightFailure, preflight, type PreflightResult } from './preflight.ts';
import type { BeforeValidate } from './preflight-hook.ts';

/** Pause between two fetches of a challenge that is not served yet. */
export const PREPARE_RETRY_MS = 250;
/** Bound on one fetch round (every address of the name). */
const ROUND_TIMEOUT_MS = 2000;

/** What {@link awaitPrepared} needs. */
export interface PrepareWaitOptions {
  /** At most this long per name (`prepareWait`); 0 turns the wait off. */
  waitMs: number;
  /** True when the name has prepare commands (only those are awaited). */
  hasPrepare: (identifier: string) => boolean;
  /** Port of the first request to every address, and the DNS server to ask (as the pre-flight's). */
  port: number;
  resolver: string | null;
  /** Progress (once served). */
  info: (message: string) => void;
  /** Not served in time: printed even under `--cron`. */
  warn: (message: string) => void;
}

/**
 * Returns a hook that, for a name with prepare commands, waits until every address of the name
 * serves the key authorization (up to `waitMs`, fetching every {@link PREPARE_RETRY_MS}), warns
 * when it never did, and then runs `next` (the pre-flight, when on). Never fails on its own:
 * after the wait the CA is asked whatever the fetch found. Returns `next` when the wait is off.
 */
export function awaitPrepared(next: BeforeValidate | undefined, opts: PrepareWaitOptions): BeforeValidate | undefined {
  if (opts.waitMs <= 0) return next;
  return async (identifier, token, keyAuthorization) => {
    if (opts.hasPrepare(identifier)) await waitServed(identifier, token, keyAuthorization, opts);
    if (next) await next(identifier, token, keyAuthorization);
  };
}

async function waitServed(identifier: string, token: string, keyAuthorization: string, opts: PrepareWaitOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.waitMs;
  let last: PreflightResult;
  for (;;) {
    const timeoutMs = Math.max(100, Math.min(ROUND_TIMEOUT_MS, deadline - Date.now()));
    last = await preflight({ names: [identifier], token, keyAuthorization, port: opts.port, resolver: opts.resolver ?? undefined, timeoutMs });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (last.ok) {
      opts.info(`${identifier}: challenge served after ${seconds} s (prepare commands awaited)`);
      return;
    }
    if (Date.now() + PREPARE_RETRY_MS >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, PREPARE_RETRY_MS));
  }
  const why = last.failures.map(describePreflightFailure).join('; ');
  opts.warn(`${identifier}: challenge still not served ${(opts.waitMs / 1000).toFixed(1)} s after its prepare commands started (prepareWait): ${why}; asking the CA anyway`);
}
