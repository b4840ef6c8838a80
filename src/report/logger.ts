/** Where a command's log lines go (stderr), with lematt's prefixes and `--cron` quietness. */
export interface Logger {
  /** Progress a person watching may want; silent under `--cron`. */
  info(message: string): void;
  /** A change on disk or a command run; printed even under `--cron`, as lematt's update messages. */
  change(message: string): void;
  /** A failure or something the user must fix; always printed. */
  error(message: string): void;
  warn(message: string): void;
}

/**
 * A logger writing `[TEST] ` (test mode) or `> ` (prod) prefixed lines, as lematt did, so
 * anything that scraped lematt's output keeps working.
 */
export function createLogger(opts: { mode: 'prod' | 'test'; cron: boolean; write: (line: string) => void }): Logger {
  const prefix = opts.mode === 'test' ? '[TEST] ' : '> ';
  const out = (m: string) => opts.write(`${prefix}${m}\n`);
  return {
    info: (m) => {
      if (!opts.cron) out(m);
    },
    change: out,
    error: (m) => out(`error: ${m}`),
    warn: (m) => out(`warning: ${m}`),
  };
}
