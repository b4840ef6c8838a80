import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ACME_KEYS, type AcmeEndpoint, parseAcmeEndpoint, type PathCheck } from './acme-endpoints.ts';
import { findSection, type IniDocument, type IniEntry, type IniSection, parseIni, visibleEntries } from './ini.ts';
import { readValue, referencedKeys } from './interpolation.ts';
import { DNS_KEYS, type DnsSetup, parseDnsSetups, type ZoneClaim } from './dns.ts';
import { closestMatch, type Reporter } from './reporter.ts';
import { parseBoolean, parseDecimal, parseInteger, splitKnownKeys, warnUnknownDefaults } from './values.ts';
import { parseServerAddress } from '../dns/server-address.ts';
import { bufferingReporter, flushMasked } from './secret-mask.ts';

export type { AcmeEndpoint, PathCheck } from './acme-endpoints.ts';
export type { DnsSetup } from './dns.ts';

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
  /**
   * `prepareWait`: how long, at most, a request whose names have prepare commands waits for its
   * HTTP-01 challenges to be served before the CA is asked (0 = no wait).
   */
  prepareWaitSeconds: number;
  /** HTTP-01 pre-flight before the CA is asked to validate (see challenge/preflight.ts). */
  preflight: PreflightSettings;
  acme: { prod: AcmeEndpoint; test: AcmeEndpoint };
  /** The `[dns:*]` sections: names under their zones are validated with DNS-01. */
  dns: DnsSetup[];
}

/** `preflight`, `resolver` and `preflightPort` of `[config]`. */
export interface PreflightSettings {
  enabled: boolean;
  /** `ADDR:PORT` or `[IPV6]:PORT` of the DNS server to ask; null for the system's resolvers. */
  resolver: string | null;
  /** Port of the first request to every address: the one the CA validates on (80). */
  port: number;
}

/** Where the three config files are; copied into Settings. */
export interface ConfigPaths {
  configDir: string;
  lemattConf: string;
  domainsFile: string;
  actionsFile: string;
}

/** Keys of `[config]`, canonical spelling (lematt's, plus certfleet's actionTimeout, pre-flight and prepareWait). */
export const CONFIG_KEYS = [
  'reauthorizeDays', 'generateNewCertsAfterDays', 'alwaysGenerateNewKeys', 'challengeDropDir',
  'accountKey', 'keyBitsRSA', 'curve', 'rsaTag', 'curveTag', 'actionTimeout',
  'preflight', 'resolver', 'preflightPort', 'prepareWait',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];
/** Reads one `[config]` key when present; `use` stores it or returns the problem to report. */
type Each = (name: ConfigKey, use: (value: string, entry: IniEntry) => string | void) => void;

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
 * The returned checks list the paths only the filesystem can vet (see PathCheck); `dnsZones`
 * are the zones of every `[dns:*]` section, for checking domains against them. In a section
 * holding secrets, diagnostics quote values only in part (see secret-mask.ts).
 */
export function parseSettings(
  text: string, opts: { cwd: string; paths: ConfigPaths }, report: Reporter,
): { settings: Settings; checks: PathCheck[]; dnsZones: ZoneClaim[] } {
  // Everything is reported through `local`, then masked where a section holds secrets.
  const local = bufferingReporter(report.file);
  const parsed = parseSettingsTo(text, opts, local);
  flushMasked(local.held, parsed.doc, report);
  return { settings: parsed.settings, checks: parsed.checks, dnsZones: parsed.dnsZones };
}

function parseSettingsTo(
  text: string, opts: { cwd: string; paths: ConfigPaths }, report: Reporter,
): { doc: IniDocument; settings: Settings; checks: PathCheck[]; dnsZones: ZoneClaim[] } {
  const doc = parseIni(text, report);
  const checks: PathCheck[] = [];
  checkSectionNames(doc, report);
  const dns = parseDnsSetups(doc, opts.cwd, report, checks);
  const settings: Settings = {
    ...opts.paths,
    reauthorizeDays: 15, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false,
    challengeDropDir: '', accountKey: '',
    keyBitsRSA: 2048, curve: 'prime256v1', rsaTag: 'rsa2048', curveTag: 'prime256v1',
    actionTimeoutSeconds: 300,
    prepareWaitSeconds: 10,
    preflight: { enabled: false, resolver: null, port: 80 },
    acme: {
      prod: parseAcmeEndpoint(doc, 'prod', opts.cwd, report, checks),
      test: parseAcmeEndpoint(doc, 'test', opts.cwd, report, checks),
    },
    dns: dns.setups,
  };
  const config = findSection(doc, 'config');
  if (config) readConfigSection(doc, config, settings, opts.cwd, report, checks);
  else report.error(0, `missing section [config]${caseHint(doc, 'config')}`);
  return { doc, settings, checks, dnsZones: dns.zones };
}

function readConfigSection(
  doc: IniDocument, config: IniSection, settings: Settings, cwd: string, report: Reporter, checks: PathCheck[],
): void {
  const keys = splitKnownKeys(visibleEntries(doc, config), CONFIG_KEYS, '[config]', report, referencedKeys(doc));
  const each: Each = (name, use) => {
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

  each('prepareWait', (v) => {
    const n = parseDecimal(v);
    return assign(n !== null && n >= 0 && n <= 600 ? n : null, (s) => (settings.prepareWaitSeconds = s), `must be a number of seconds from 0 to 600 (0 = do not wait), got "${v}"`);
  });
  readPreflight(keys, each, settings.preflight, report);

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

/** Reads `preflight`, `resolver` and `preflightPort`; warns when the last two would be ignored. */
function readPreflight(keys: Map<string, IniEntry>, each: Each, preflight: PreflightSettings, report: Reporter): void {
  let stated: boolean | null = null;
  each('preflight', (v) => assign(parseBoolean(v), (b) => (stated = preflight.enabled = b), `must be yes or no (1/yes/true/on, 0/no/false/off), got "${v}"`));
  each('resolver', (v) => assign(parseResolver(v), (r) => (preflight.resolver = r), `must be an IP address and port 1-65535 (53 when left out), like 192.0.2.53:53, [2001:db8::53]:53 or 192.0.2.53, got "${v}"`));
  each('preflightPort', (v) => {
    const port = parseInteger(v);
    return assign(port !== null && port >= 1 && port <= 65535 ? port : null, (p) => (preflight.port = p), `must be a port number from 1 to 65535, got "${v}"`);
  });
  // An invalid preflight value is already an error; saying more about it would be noise.
  if (stated === true || (stated === null && keys.has('preflight'))) return;
  for (const name of ['resolver', 'preflightPort'] as const) {
    const entry = keys.get(name);
    if (entry) report.warning(entry.line, `${entry.rawKey}: has no effect without "preflight: yes" (except while waiting for prepare commands)`);
  }
}

/** Stores a parsed value, or returns the problem when parsing gave null. */
function assign<T>(value: T | null, store: (value: T) => unknown, problem: string): string | undefined {
  if (value === null) return problem;
  store(value);
  return undefined;
}

/**
 * Normalises a DNS server address to `ADDR:PORT` or `[IPV6]:PORT` (the forms node:dns takes).
 * A bare address means port 53; an IPv6 address needs brackets, since `2001:db8::1:53` could
 * be either. Null unless the address is an IP literal and the port 1-65535.
 */
function parseResolver(value: string): string | null {
  if (isIP(value) === 6) return null;
  const server = parseServerAddress(value);
  const family = server ? isIP(server.host) : 0;
  if (!server || family === 0) return null;
  return family === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

function fileTag(value: string): string | null {
  return value !== '' && !/[/\s\0]/.test(value) ? value : null;
}

function checkSectionNames(doc: IniDocument, report: Reporter): void {
  const known = [...KNOWN_SECTIONS.map((name) => `[${name}]`), '[dns:<name>]'];
  for (const section of doc.sections) {
    // Every [dns:<name>] is one DNS-01 setup (dns.ts).
    if (KNOWN_SECTIONS.includes(section.name) || section.name.startsWith('dns:')) continue;
    const guess = SECTION_HINTS[section.name] ?? closestMatch(section.name, KNOWN_SECTIONS);
    const hint = guess ? ` (did you mean [${guess}]?)` : '';
    report.warning(section.line, `unknown section [${section.name}]${hint}; known sections: ${known.join(', ')}`);
  }
  // [DEFAULT] feeds every section, so its keys only need to be known to one of them.
  warnUnknownDefaults(doc, [...CONFIG_KEYS, ...ACME_KEYS, ...DNS_KEYS], report, referencedKeys(doc));
}

function caseHint(doc: IniDocument, name: string): string {
  const near = doc.sections.find((section) => section.name.toLowerCase() === name);
  return near ? ` ([${near.name}] on line ${near.line}: section names are case-sensitive)` : '';
}
