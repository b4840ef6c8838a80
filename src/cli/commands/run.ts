import { createLogger } from '../../report/logger.ts';
import { failed, noteworthy, summaryJson, summaryText } from '../../report/summary.ts';
import { executeRun } from '../../run/execute.ts';
import { readAccountKeyPem } from '../account-key.ts';
import { EXIT, type Io } from '../errors.ts';
import { intFlag, loadCheckedConfig, modeFrom, onlyNames } from '../load.ts';

/** Flags of the lematt-compatible main command. */
export interface RunFlags {
  test?: boolean;
  prod?: boolean;
  config: string;
  parallel?: string;
  cron?: boolean;
  directory?: string;
  json?: boolean;
  dryRun?: boolean;
  only?: string[];
  force?: boolean;
  retry?: boolean;
}

/** How long an interrupted run may take to stop what it started and clean up before it exits anyway. */
const STOP_CAP_MS = 20_000;

/** `certfleet --test|--prod`: issue and renew what is due, then report. Returns the exit code. */
export async function runCommand(flags: RunFlags, io: Io): Promise<number> {
  try {
    return await runChecked(flags, io);
  } catch (err) {
    // A script reading --json gets an object whatever happened; the message also goes to stderr.
    if (flags.json) io.stdout.write(`${JSON.stringify({ error: (err as Error)?.message ?? String(err), errorType: (err as Error)?.name ?? 'Error' }, null, 2)}\n`);
    throw err;
  }
}

async function runChecked(flags: RunFlags, io: Io): Promise<number> {
  const mode = modeFrom(flags, true);
  const parallel = intFlag('--parallel', flags.parallel, 1, 1, 64);
  const config = await loadCheckedConfig(flags.config, io, Boolean(flags.cron));
  const accountKeyPem = await readAccountKeyPem(config.settings, flags.config);
  const selection = { only: onlyNames(config, flags.only), force: Boolean(flags.force) };
  if (flags.dryRun) {
    const { dryRun } = await import('../../run/dry-run.ts');
    const { jwkThumbprint } = await import('../../crypto/thumbprint.ts');
    const account = { directory: flags.directory ?? config.settings.acme[mode].directory, thumbprint: jwkThumbprint(accountKeyPem) };
    const out = await dryRun(config, mode, io.now(), account, { selection, retry: flags.retry });
    io.stdout.write(flags.json ? JSON.stringify(out.json, null, 2) + '\n' : out.text);
    return EXIT.ok;
  }
  const directoryUrl = flags.directory ?? config.settings.acme[mode].directory;
  const log = createLogger({ mode, cron: Boolean(flags.cron), write: (l) => io.stderr.write(l) });
  const lockWaitMs = intFlag('CERTFLEET_LOCK_WAIT_MS', io.env.CERTFLEET_LOCK_WAIT_MS, 10_000, 0, 3_600_000);
  const requestTimeoutMs = intFlag('CERTFLEET_CA_TIMEOUT_MS', io.env.CERTFLEET_CA_TIMEOUT_MS, 30_000, 100, 600_000);

  // SIGTERM/SIGINT abort the run: nothing new starts, requests in flight are given up, and the
  // `finally` blocks stop prepare and action commands and remove challenge files and records.
  // Should that take longer than STOP_CAP_MS, the run exits anyway (the exit hook of src/actions
  // still kills the process groups, and the next run removes what is recorded as left over).
  const abort = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    io.stderr.write(`certfleet: ${signal}: stopping\n`);
    abort.abort();
    setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), STOP_CAP_MS).unref();
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    const summary = await executeRun({
      config, mode, directoryUrl, accountKeyPem, parallel, now: io.now, log, lockWaitMs, selection, retry: Boolean(flags.retry), requestTimeoutMs, signal: abort.signal,
    });
    if (flags.json) io.stdout.write(summaryJson(summary) + '\n');
    else if (!flags.cron || noteworthy(summary)) io.stdout.write(summaryText(summary, { cron: Boolean(flags.cron) }));
    if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
    return failed(summary) ? EXIT.failed : EXIT.ok;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}
