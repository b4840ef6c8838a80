import { resolve } from 'node:path';
import { ACME_KEYS, type AcmeEndpoint, parseAcmeEndpoint, type PathCheck } from './acme-endpoints.ts';
import { findSection, type IniDocument, type IniEntry, type IniSection, parseIni, visibleEntries } from './ini.ts';
import { readValue, referencedKeys } from './interpolation.ts';
import { closestMatch, type Reporter } from './reporter.ts';
import { parseBoolean, parseDecimal, parseInteger, splitKnownKeys, warnUnknownDefaults } from './values.ts';

export type { AcmeEndpoint, PathCheck } from './acme-endpoints.ts';

/** The two certificates lematt makes for every domains line. */
export type KeyType = 'rsa' | 'ec';

/** lematt.conf, typed. Every path is absolute. */
export interface Settings {
  configDir: string;
  lemattConf: string;
  domainsFile: string;
  actionsFile: string;
  reauthorizeDays: number;
  /** 0 = off; otherwise the renewal window is 90 − N days (lematt reference §5). */
  generateNewCertsAfterDays: number;
  alwaysGenerateNewKeys: boolean;
  challengeDropDir: string;
  accountKey: string;
  keyBitsRSA: number;
  curve: 'prime256v1' | 'secp384r1';
  /** File-name tag of RSA artifacts; default `rsa<keyBitsRSA as written>`. */
  rsaTag: string;
  /** File-name tag of EC artifacts; default the `curve` value as written (lematt named files so). */
  curveTag: string;
  actionTimeoutSeconds: number;
  acme: { prod: AcmeEndpoint; test: AcmeEndpoint };
}

/** Where the three config files are; copied into Settings. */
export interface ConfigPaths {
  configDir: string;
  lemattConf: string;
  domainsFile: string;
  actionsFile: string;
}

/** Keys of `[config]`, canonical spelling (lematt's, plus certfleet's actionTimeout). */
export const CONFIG_KEYS = [
  'reauthorizeDays', 'generateNewCertsAfterDays', 'alwaysGenerateNewKeys', 'challengeDropDir',
  'accountKey', 'keyBitsRSA', 'curve', 'rsaTag', 'curveTag', 'actionTimeout',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

const KNOWN_SECTIONS = ['config', 'acme:prod', 'acme:test'];
// Names people reach for that are too far from the real ones for closestMatch.
const SECTION_HINTS: Record<string, string> = { 'acme:staging': 'acme:test', 'acme:production': 'acme:prod' };
const CURVES: Record<string, Settings['curve']> = {
  prime256v1: 'prime256v1', secp384r1: 'secp384r1',
  'p-256': 'prime256v1', 'p-384': 'secp384r1', secp256r1: 'prime256v1',
};

/**
 * Parses the text of lematt.conf. Never throws: every problem is reported, and the returned
 * Settings hold defaults wherever a value was missing or invalid (so callers must check the
 * reporter for errors before using them). Relative paths resolve against `cwd`, as lematt did.
 * The returned checks list the paths only the filesystem can vet (see PathCheck).
 */
export function parseSettings(
  text: string, opts: { cwd: string; paths: ConfigPaths }, report: Reporter,
): { settings: Settings; checks: PathCheck[] } {
  const doc = parseIni(text, report);
  const checks: PathCheck[] = [];
  checkSectionNames(doc, report);
  const settings: Settings = {
    ...opts.paths,
    reauthorizeDays: 15, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false,
    challengeDropDir: '', accountKey: '',
    keyBitsRSA: 2048, curve: 'prime256v1', rsaTag: 'rsa2048', curveTag: 'prime256v1',
    actionTimeoutSeconds: 300,
    acme: {
      prod: parseAcmeEndpoint(doc, 'prod', opts.cwd, report, checks),
      test: parseAcmeEndpoint(doc, 'test', opts.cwd, report, checks),
    },
  };
  const config = findSection(doc, 'config');
  if (config) readConfigSection(doc, config, settings, opts.cwd, report, checks);
  else report.error(0, `missing section [config]${caseHint(doc, 'config')}`);
  return { settings, checks };
}

function readConfigSection(
  doc: IniDocument, config: IniSection, settings: Settings, cwd: string, report: Reporter, checks: PathCheck[],
): void {
  const keys = splitKnownKeys(visibleEntries(doc, config), CONFIG_KEYS, '[config]', report, referencedKeys(doc));
  const each = (name: ConfigKey, use: (value: string, entry: IniEntry) => string | void) => {
    const entry = keys.get(name);
    const value = entry ? readValue(doc, config, entry, report) : null;
    const problem = entry && value !== null ? use(value, entry) : undefined;
    if (problem) report.error(entry!.line, `${entry!.rawKey}: ${problem}`);
  };
  const days = (value: string) => {
    const n = parseDecimal(value);
    return n !== null && n >= 0 ? n : null;
  };

  each('reauthorizeDays', (v) => assign(days(v), (n) => (settings.reauthorizeDays = n), `must be a number of days ≥ 0, got "${v}"`));
  each('generateNewCertsAfterDays', (v) => assign(days(v), (n) => (settings.generateNewCertsAfterDays = n), `must be a number of days ≥ 0 (0 = off), got "${v}"`));
  each('alwaysGenerateNewKeys', (v) => assign(parseBoolean(v), (b) => (settings.alwaysGenerateNewKeys = b), `must be yes or no (1/yes/true/on, 0/no/false/off), got "${v}"`));
  each('actionTimeout', (v) => {
    const n = parseDecimal(v);
    return assign(n !== null && n > 0 ? n : null, (s) => (settings.actionTimeoutSeconds = s), `must be a number of seconds > 0, got "${v}"`);
  });

  let bitsWritten = '2048';
  each('keyBitsRSA', (v, entry) => {
    const bits = parseInteger(v);
    if (bits === null || bits < 2048 || bits > 4096) return `must be a whole number of bits from 2048 to 4096, got "${v}"`;
    if (![2048, 3072, 4096].includes(bits)) report.warning(entry.line, `${entry.rawKey}: ${bits} bits is unusual; Let's Encrypt accepts 2048, 3072 and 4096`);
    settings.keyBitsRSA = bits;
    bitsWritten = v;
  });
  settings.rsaTag = `rsa${bitsWritten}`;
  each('curve', (v) => {
    const curve = CURVES[v.toLowerCase()];
    if (!curve) return `"${v}" is not supported; use prime256v1 (P-256) or secp384r1 (P-384)`;
    settings.curve = curve;
    settings.curveTag = v;
  });
  each('rsaTag', (v) => assign(fileTag(v), (t) => (settings.rsaTag = t), `"${v}" cannot be part of a file name (empty, or holds "/" or blanks)`));
  each('curveTag', (v) => assign(fileTag(v), (t) => (settings.curveTag = t), `"${v}" cannot be part of a file name (empty, or holds "/" or blanks)`));

  const path = (name: 'challengeDropDir' | 'accountKey', why: string): string => {
    let result = '';
    if (!keys.has(name)) report.error(config.line, `[config]: ${name} is required (${why})`);
    each(name, (v, entry) => {
      if (v === '') return 'empty path';
      result = resolve(cwd, v);
      // The account key is checked by the commands that need it; `plan` does not.
      if (name === 'challengeDropDir') checks.push({ kind: name, path: result, written: v, rawKey: entry.rawKey, line: entry.line });
    });
    return result;
  };
  settings.challengeDropDir = path('challengeDropDir', 'the directory your web server serves as /.well-known/acme-challenge/');
  settings.accountKey = path('accountKey', 'the ACME account key, an RSA private key in PEM');
}

/** Stores a parsed value, or returns the problem when parsing gave null. */
function assign<T>(value: T | null, store: (value: T) => unknown, problem: string): string | undefined {
  if (value === null) return problem;
  store(value);
  return undefined;
}

function fileTag(value: string): string | null {
  return value !== '' && !/[/\s\0]/.test(value) ? value : null;
}

function checkSectionNames(doc: IniDocument, report: Reporter): void {
  const known = KNOWN_SECTIONS.map((name) => `[${name}]`);
  for (const section of doc.sections) {
    // [dns:<name>] is reserved for DNS-01 providers; accepted silently until they exist.
    if (KNOWN_SECTIONS.includes(section.name) || section.name.startsWith('dns:')) continue;
    const guess = SECTION_HINTS[section.name] ?? closestMatch(section.name, KNOWN_SECTIONS);
    const hint = guess ? ` (did you mean [${guess}]?)` : '';
    report.warning(section.line, `unknown section [${section.name}]${hint}; known sections: ${known.join(', ')}`);
  }
  // [DEFAULT] feeds every section, so its keys only need to be known to one of them.
  warnUnknownDefaults(doc, [...CONFIG_KEYS, ...ACME_KEYS], report, referencedKeys(doc));
}

function caseHint(doc: IniDocument, name: string): string {
  const near = doc.sections.find((section) => section.name.toLowerCase() === name);
  return near ? ` ([${near.name}] on line ${near.line}: section names are case-sensitive)` : '';
}
