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
}
