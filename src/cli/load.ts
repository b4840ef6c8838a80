import { hasErrors, formatDiagnostic } from '../config/diagnostics.ts';
import { loadConfig, type Config } from '../config/load.ts';
import { loadSettings } from '../config/load-settings.ts';
import type { Settings } from '../config/settings.ts';
import { parseListenList, type ListenAddress } from '../server/listen.ts';
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

/**
 * Loads and checks lematt.conf alone (see loadSettings): for the commands that need only the
 * account key, so a host without `domains` or `actions.conf` can run them. Throws
 * {@link ConfigError} with every problem of lematt.conf when any is an error; warnings go to
 * stderr unless `quiet`.
 */
export async function loadCheckedSettings(configPath: string, io: Pick<Io, 'cwd' | 'stderr'>, quiet: boolean): Promise<Settings> {
  const { settings, diagnostics } = await loadSettings({ configPath, cwd: io.cwd });
  if (hasErrors(diagnostics) || !settings) throw new ConfigError(diagnostics);
  if (!quiet) for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  return settings;
}

/**
 * `--listen` values parsed (default `:80` on IPv4 and IPv6).
 * @throws UsageError naming the first bad value.
 */
export function listenAddresses(listen: readonly string[] | undefined): ListenAddress[] {
  try {
    return parseListenList(listen);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * `--only` names, lowercased; each must be on some line of domains (else a usage error: a typo
 * would otherwise select nothing and report success).
 */
export function onlyNames(config: Config, only: readonly string[] | undefined): string[] {
  const names = (only ?? []).map((n) => n.toLowerCase());
  const known = new Set(config.domains.flatMap((l) => l.names.map((n) => n.toLowerCase())));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new UsageError(`--only ${unknown.join(', ')}: no line of ${config.settings.domainsFile} holds ${unknown.length === 1 ? 'this name' : 'these names'}`);
  return names;
}
