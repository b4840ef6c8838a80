import { createHash } from 'node:crypto';
import { type ActionsConfig, checkOverrideNames, parseActions } from './actions.ts';
import { type Diagnostic, formatDiagnostic, hasErrors } from './diagnostics.ts';
import { checkWildcardNames } from './dns.ts';
import { type DomainLine, parseDomains } from './domains.ts';
import { reporterFor } from './reporter.ts';
import { type PathCheck, parseSettings, type Settings } from './settings.ts';

/** The whole configuration: lematt.conf, domains and actions.conf, typed and checked. */
export interface Config {
  settings: Settings;
  domains: DomainLine[];
  actions: ActionsConfig;
  /**
   * A digest of lematt.conf and actions.conf as read: what a certificate's failure record was made
   * under (a changed config clears it, see plan/backoff.ts).
   */
  digest: string;
}

/** One config file as read by load.ts. */
export interface ConfigSource {
  /** Absolute path. */
  path: string;
  /** The name diagnostics show (relative to the working directory when inside it). */
  display: string;
  /** File content, or null when it could not be read (the reader reports that). */
  text: string | null;
}

/** Everything parseConfig needs: the three files and the directory relative paths resolve against. */
export interface ConfigInput {
  cwd: string;
  configDir: string;
  lemattConf: ConfigSource;
  domains: ConfigSource;
  actions: ConfigSource;
}

/** Result of parseConfig: `config` is null when any diagnostic is an error or a file is missing. */
export interface ParsedConfig {
  config: Config | null;
  /** Every problem of all three files, ordered by file then line. */
  diagnostics: Diagnostic[];
  /** Paths from lematt.conf that only the filesystem can vet (load.ts runs them). */
  checks: PathCheck[];
}

/**
 * Parses and cross-checks the three config files without touching the filesystem, reporting
 * every problem of every file (override names missing from domains, and wildcards without a
 * `[dns:*]` zone, are checked only when both files were read). An `eabHmacKeyFile` leaves its
 * `eab.hmacKey` empty, a `tsigSecretFile` its secret and a `credentialsFile` its accounts; see
 * `checks`.
 */
export function parseConfig(input: ConfigInput): ParsedConfig {
  const diagnostics: Diagnostic[] = [];
  const { lemattConf, domains, actions } = input;
  const paths = {
    configDir: input.configDir, lemattConf: lemattConf.path, domainsFile: domains.path, actionsFile: actions.path,
  };
  const settingsResult = lemattConf.text === null ? null
    : parseSettings(lemattConf.text, { cwd: input.cwd, paths }, reporterFor(lemattConf.display, diagnostics));
  const domainsReporter = reporterFor(domains.display, diagnostics);
  const domainLines = domains.text === null ? null : parseDomains(domains.text, domainsReporter);
  if (settingsResult && domainLines) checkWildcardNames(domainLines, settingsResult.dnsZones, domainsReporter);
  const actionsReporter = reporterFor(actions.display, diagnostics);
  const actionsConfig = actions.text === null ? null : parseActions(actions.text, actions.path, actionsReporter);
  if (actionsConfig && domainLines) checkOverrideNames(actionsConfig, domainLines, actionsReporter);

  const ordered = orderDiagnostics(diagnostics, [lemattConf.display, domains.display, actions.display]);
  const complete = settingsResult && domainLines && actionsConfig && !hasErrors(ordered);
  return {
    config: complete ? { settings: settingsResult.settings, domains: domainLines, actions: actionsConfig, digest: digestOf(lemattConf.text!, actions.text!) } : null,
    diagnostics: ordered,
    checks: settingsResult?.checks ?? [],
  };
}

function digestOf(lemattConf: string, actions: string): string {
  return createHash('sha256').update(lemattConf).update('\0').update(actions).digest('base64url').slice(0, 16);
}

/**
 * Returns `diagnostics` without exact repeats (a `[DEFAULT]` entry is seen from every
 * section), ordered by file (in `files` order, others last), then line, else as reported.
 */
export function orderDiagnostics(diagnostics: readonly Diagnostic[], files: readonly string[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const key = formatDiagnostic(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (d: Diagnostic) => {
    const index = files.indexOf(d.file);
    return index < 0 ? files.length : index;
  };
  return unique
    .map((d, index) => ({ d, index }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.d.line - b.d.line || a.index - b.index)
    .map(({ d }) => d);
}
