import { CommanderError } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { LockBusyError } from '../store/lock.ts';
import { ConfigError, EXIT, UsageError, type Io } from './errors.ts';
import { buildProgram } from './program.ts';

/**
 * The one error boundary: runs the command line and turns every error into a message and an
 * exit code (0 ok, 1 a certificate or action failed, 2 usage or config, 3 locked). Stack traces
 * are printed only with CERTFLEET_DEBUG=1.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const result = { code: EXIT.ok as number };
  try {
    await buildProgram(io, result).parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with code 0; every other commander error is a usage error.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
      const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
      io.stderr.write(`certfleet: ${errors} config error${errors === 1 ? '' : 's'}; nothing was done\n`);
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`certfleet: error: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof LockBusyError) {
      io.stderr.write(`certfleet: ${err.message}\n`);
      return EXIT.locked;
    }
    const e = err as Error;
    io.stderr.write(`certfleet: error: ${e?.message ?? String(err)}\n`);
    if (io.env.CERTFLEET_DEBUG === '1' && e?.stack) io.stderr.write(`${e.stack}\n`);
    return EXIT.failed;
  }
}
