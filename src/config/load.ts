import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { HMAC_KEY_PROBLEM, parseHmacKey, type PathCheck } from './acme-endpoints.ts';
import type { Diagnostic } from './diagnostics.ts';
import { applyDnsFile } from './dns-files.ts';
import { type Config, type ConfigSource, orderDiagnostics, parseConfig } from './parse.ts';
import { reporterFor, type Reporter } from './reporter.ts';

export { type Config, type ConfigInput, type ConfigSource, parseConfig } from './parse.ts';

/** Where to find lematt.conf and what relative paths inside it are relative to. */
export interface LoadOptions {
  /** Path of lematt.conf (lematt's `--config`); relative to `cwd`. */
  configPath: string;
  /** The working directory: lematt resolved the paths in lematt.conf against it. */
  cwd: string;
}

/**
 * Reads lematt.conf, and `domains` and `actions.conf` from the directory of lematt.conf's real
 * path (lematt's semantics), parses all three, and checks what needs the filesystem: that
 * `challengeDropDir` is a directory, that each `eabHmacKeyFile` holds a key (whose content
 * then fills `eab.hmacKey`), and that each secret file of a `[dns:*]` section (`tsigSecretFile`,
 * `credentialsFile`) holds what its provider's descriptor expects (filled into the provider's
 * settings; a warning when every user may read it). The account key is not checked here. Never throws for a config
 * problem: every problem of every file is in `diagnostics` (ordered by file, then line), and
 * `config` is null when any of them is an error.
 */
export async function loadConfig(opts: LoadOptions): Promise<{ config: Config | null; diagnostics: Diagnostic[] }> {
  const place = await locateConfig(opts);
  const { cwd, configDir, show } = place;
  const diagnostics: Diagnostic[] = [];
  const [lemattConf, domains, actions] = await Promise.all([
    readLemattConf(place, diagnostics),
    readSource(join(configDir, 'domains'), show(join(configDir, 'domains')), diagnostics),
    readSource(join(configDir, 'actions.conf'), show(join(configDir, 'actions.conf')), diagnostics),
  ]);
  const parsed = parseConfig({ cwd, configDir, lemattConf, domains, actions });
  const report = reporterFor(lemattConf.display, diagnostics);
  for (const check of parsed.checks) await runCheck(check, parsed.config, report);

  const all = orderDiagnostics([...diagnostics, ...parsed.diagnostics], [lemattConf.display, domains.display, actions.display]);
  const failed = all.some((d) => d.severity === 'error');
  return { config: failed ? null : parsed.config, diagnostics: all };
}

/** Where lematt.conf is, as loadConfig and loadSettings resolve it. */
export interface ConfigPlace {
  cwd: string;
  /** The directory of lematt.conf's real path: domains, actions.conf and the trees live there. */
  configDir: string;
  /** lematt.conf's real path (or the given one when it does not resolve). */
  confPath: string;
  /** lematt.conf as diagnostics name it. */
  confDisplay: string;
  /** A path as diagnostics show it: relative to the working directory when inside it. */
  show: (path: string) => string;
}

/** Resolves `opts.configPath` against `opts.cwd` (symlinks followed, as lematt). Never throws. */
export async function locateConfig(opts: LoadOptions): Promise<ConfigPlace> {
  const cwd = resolve(opts.cwd);
  const realCwd = await realpath(cwd).catch(() => cwd);
  const givenPath = resolve(cwd, opts.configPath);
  const realConf = await realpath(givenPath).catch(() => null);
  const show = (path: string) => displayPath(path, [cwd, realCwd]);
  return { cwd, configDir: dirname(realConf ?? givenPath), confPath: realConf ?? givenPath, confDisplay: show(givenPath), show };
}

/** Reads lematt.conf; a problem becomes an error in `diagnostics` and `text: null`. */
export function readLemattConf(place: ConfigPlace, diagnostics: Diagnostic[]): Promise<ConfigSource> {
  return readSource(place.confPath, place.confDisplay, diagnostics, true);
}

async function readSource(path: string, display: string, diagnostics: Diagnostic[], isLemattConf = false): Promise<ConfigSource> {
  try {
    return { path, display, text: await readFile(path, 'utf8') };
  } catch (error) {
    const hint = isLemattConf && codeOf(error) === 'EISDIR' ? ' (give the path of lematt.conf, not its directory)' : '';
    reporterFor(display, diagnostics).error(0, `cannot read: ${describeError(error)}${hint}`);
    return { path, display, text: null };
  }
}

async function runCheck(check: PathCheck, config: Config | null, report: Reporter): Promise<void> {
  const where = `${check.rawKey}: "${check.written}"`;
  if (check.kind === 'challengeDropDir') {
    try {
      if (!(await stat(check.path)).isDirectory()) report.error(check.line, `${where} is not a directory`);
    } catch (error) {
      report.error(check.line, `${where}: ${describeError(error)}`);
    }
    return;
  }
  let text: string;
  try {
    text = await readFile(check.path, 'utf8');
  } catch (error) {
    report.error(check.line, `${where}: cannot read: ${describeError(error)}`);
    return;
  }
  if (check.kind === 'dnsSecretFile') {
    const mode = (await stat(check.path).catch(() => null))?.mode ?? 0;
    return applyDnsFile(check, text, mode, config?.settings.dns ?? null, report);
  }
  const hmacKey = parseHmacKey(text);
  if (hmacKey === null) report.error(check.line, `${where}: ${HMAC_KEY_PROBLEM}`);
  const eab = config && check.endpoint ? config.settings.acme[check.endpoint].eab : null;
  if (eab && hmacKey !== null) eab.hmacKey = hmacKey;
}

/** `path` relative to the working directory when it lies inside it, else absolute. */
function displayPath(path: string, bases: readonly string[]): string {
  for (const base of bases) {
    const rel = relative(base, path);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
  }
  return path;
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

// Node's messages embed the absolute path; diagnostics already name the file.
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many levels of symbolic links',
};

function describeError(error: unknown): string {
  const code = codeOf(error);
  return (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
}
