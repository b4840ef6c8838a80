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

/** `certfleet --test|--prod`: issue and renew what is due, then report. Returns the exit code. */
export async function runCommand(flags: RunFlags, io: Io): Promise<number> {
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

  // Prepare commands run in process groups of their own; an interrupted run must stop them, which
  // the exit hook of src/actions does: turn the signal into an exit so that hook runs.
  const stop = (signal: NodeJS.Signals) => {
    io.stderr.write(`certfleet: ${signal}: stopping\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const summary = await executeRun({ config, mode, directoryUrl, accountKeyPem, parallel, now: io.now, log, lockWaitMs, selection, retry: Boolean(flags.retry) });
  if (flags.json) io.stdout.write(summaryJson(summary) + '\n');
  else if (!flags.cron || noteworthy(summary)) io.stdout.write(summaryText(summary, { cron: Boolean(flags.cron) }));
  return failed(summary) ? EXIT.failed : EXIT.ok;
}
