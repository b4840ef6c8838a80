import type { Config } from '../config/load.ts';
import type { Logger } from '../report/logger.ts';
import type { Mode } from '../store/layout.ts';
import type { Selection } from './load-plan.ts';

/** Everything one `run` needs; effects go through these. */
export interface RunOptions {
  config: Config;
  mode: Mode;
  directoryUrl: string;
  accountKeyPem: string;
  parallel: number;
  now: () => Date;
  log: Logger;
  lockWaitMs: number;
  /** `--only` / `--force`. */
  selection?: Selection;
  /** `--retry`: order even inside a failure back-off (never before a rateLimited Retry-After). */
  retry?: boolean;
  /** The random source for the moment chosen inside an ARI window. */
  random?: () => number;
  /** Per CA request; an unanswered one also counts against the run's CA deadline (acme/ca-health.ts). */
  requestTimeoutMs?: number;
  /** Aborted on SIGTERM/SIGINT: nothing new starts, what runs is stopped and cleaned up. */
  signal?: AbortSignal;
}
