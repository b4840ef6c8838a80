import { hasErrors, formatDiagnostic } from '../config/diagnostics.ts';
import { loadConfig, type Config } from '../config/load.ts';
import type { Mode } from '../store/layout.ts';
import { ConfigError, UsageError, type Io } from './errors.ts';

/** `--test` / `--prod` → mode; both or (when required) neither is a usage error. */
export function modeFrom(opts: { test?: boolean; prod?: boolean }, required: boolean): Mode {
  if (opts.test && opts.prod) throw new UsageError('--test and --prod cannot be used together');
  if (!opts.test && !opts.prod && required) throw new UsageError('one of --test (Let\'s Encrypt staging) or --prod is required');
  return opts.test ? 'test' : 'prod';
}

/**
 * Loads and checks the whole config; throws {@link ConfigError} with every problem when any is
 * an error. Warnings are written to stderr unless `quiet`.
 */
export async function loadCheckedConfig(configPath: string, io: Io, quiet: boolean): Promise<Config> {
  const { config, diagnostics } = await loadConfig({ configPath, cwd: io.cwd });
  if (hasErrors(diagnostics) || !config) throw new ConfigError(diagnostics);
  if (!quiet) for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  return config;
}

/** Parses a positive integer flag within bounds. */
export function intFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/** The account key path of a config (checked completely first; the file itself is read by the caller). */
export async function accountKeyPath(configPath: string, io: Io): Promise<string> {
  return (await loadCheckedConfig(configPath, io, false)).settings.accountKey;
}
