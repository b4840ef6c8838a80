import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { findSection, type IniDocument, type IniSection, visibleEntries } from './ini.ts';
import { readValue, referencedKeys } from './interpolation.ts';
import type { Reporter } from './reporter.ts';
import { parseBoolean, parseInteger, splitKnownKeys } from './values.ts';

/** Which ACME server a run talks to: lematt's `--prod` or `--test`. */
export type Endpoint = 'prod' | 'test';

/** One ACME server as configured in `[acme:prod]` or `[acme:test]`. */
export interface AcmeEndpoint {
  directory: string;
  /** `mailto:` URLs, in the order written. */
  contact: string[];
  /** External account binding (RFC 8555 §7.3.4), or null when the CA does not need it. */
  eab: { kid: string; hmacKey: string } | null;
  /** Ask the CA's renewalInfo (RFC 9773) when renewal is due; `ari: no` turns it off. */
  ari: boolean;
  /** The certificate profile newOrder asks for, with its line for messages; null: the CA's default. */
  profile: { name: string; line: number } | null;
  /** Pacing of new orders and certificates under the CA's limits (see plan/budget.ts). */
  budget: BudgetSettings;
}

/** `rateBudget`, `ordersPer3Hours` and `certsPerDomainPerWeek` of an `[acme:*]` section. */
export interface BudgetSettings {
  /** `auto`: on for Let's Encrypt's production directory only (staging's limits are far higher). */
  enabled: boolean | 'auto';
  ordersPer3Hours: number;
  certsPerDomainPerWeek: number;
}

/** Let's Encrypt's production limits: new orders per account per 3 hours, new certificates per registered domain per week. */
export const LETS_ENCRYPT_LIMITS = { ordersPer3Hours: 300, certsPerDomainPerWeek: 50 } as const;

/** A file named in lematt.conf whose content or existence only load.ts can check. */
export interface PathCheck {
  kind: 'challengeDropDir' | 'eabHmacKeyFile' | 'dnsSecretFile';
  /** Absolute path. */
  path: string;
  /** The value as written, for messages. */
  written: string;
  rawKey: string;
  line: number;
  /** For `eabHmacKeyFile`: the endpoint whose `eab.hmacKey` the file content fills. */
  endpoint?: Endpoint;
  /** For the files of a `[dns:*]` section: its name (`dns:internal`). */
  setup?: string;
  /** For a `dnsSecretFile`: the provider and its key (canonical spelling) that name the file. */
  secret?: { provider: string; key: string };
}

/** lematt's two servers (reference §2): Let's Encrypt production and staging. */
export const DEFAULT_DIRECTORIES: Readonly<Record<Endpoint, string>> = {
  prod: 'https://acme-v02.api.letsencrypt.org/directory',
  test: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** Keys of an `[acme:*]` section, canonical spelling. */
export const ACME_KEYS = [
  'directory', 'contact', 'eabKid', 'eabHmacKey', 'eabHmacKeyFile',
  'ari', 'profile', 'rateBudget', 'ordersPer3Hours', 'certsPerDomainPerWeek',
] as const;

/**
 * Reads `[acme:<endpoint>]` from `doc` (absent: the defaults). Every problem is reported; the
 * returned endpoint keeps defaults where a value is invalid. An `eabHmacKeyFile` leaves
 * `eab.hmacKey` empty and adds a PathCheck to `checks` so load.ts can read the file.
 */
export function parseAcmeEndpoint(
  doc: IniDocument, endpoint: Endpoint, cwd: string, report: Reporter, checks: PathCheck[],
): AcmeEndpoint {
  const result: AcmeEndpoint = {
    directory: DEFAULT_DIRECTORIES[endpoint], contact: [], eab: null, ari: true, profile: null,
    budget: { enabled: 'auto', ...LETS_ENCRYPT_LIMITS },
  };
  const section = findSection(doc, `acme:${endpoint}`);
  if (!section) return result;
  const keys = splitKnownKeys(visibleEntries(doc, section), ACME_KEYS, `[${section.name}]`, report, referencedKeys(doc));
  const read = (name: (typeof ACME_KEYS)[number]) => {
    const entry = keys.get(name);
    const value = entry ? readValue(doc, section, entry, report) : null;
    return entry && value !== null ? { entry, value } : undefined;
  };

  const directory = read('directory');
  if (directory) {
    const problem = checkDirectoryUrl(directory.value);
    if (problem) report.error(directory.entry.line, `${directory.entry.rawKey}: ${problem}`);
    else result.directory = directory.value;
  }
  const contact = read('contact');
  if (contact) result.contact = parseContacts(contact.value, (m) => report.error(contact.entry.line, `${contact.entry.rawKey}: ${m}`));
  result.eab = readEab(section, read, endpoint, cwd, report, checks);
  readRenewalKeys(read, result, report);
  return result;
}

/** `ari`, `profile` and the rate budget's keys. */
function readRenewalKeys(read: Read, result: AcmeEndpoint, report: Reporter): void {
  const bad = (e: { entry: { rawKey: string; line: number } }, what: string) => report.error(e.entry.line, `${e.entry.rawKey}: ${what}`);
  const ari = read('ari');
  if (ari) {
    const b = parseBoolean(ari.value);
    if (b === null) bad(ari, `must be yes or no, got "${ari.value}"`);
    else result.ari = b;
  }
  const profile = read('profile');
  if (profile) {
    const problem = profileNameProblem(profile.value);
    if (problem) bad(profile, problem);
    else result.profile = { name: profile.value, line: profile.entry.line };
  }
  const budget = read('rateBudget');
  if (budget) {
    const b = budget.value.toLowerCase() === 'auto' ? 'auto' : parseBoolean(budget.value);
    if (b === null) bad(budget, `must be auto, yes or no, got "${budget.value}"`);
    else result.budget.enabled = b;
  }
  for (const key of ['ordersPer3Hours', 'certsPerDomainPerWeek'] as const) {
    const e = read(key);
    if (!e) continue;
    const n = parseBudgetFigure(e.value);
    if (n === null) bad(e, budgetFigureProblem(e.value));
    else result.budget[key] = n;
  }
}

type Read = (name: (typeof ACME_KEYS)[number]) => { entry: { rawKey: string; line: number }; value: string } | undefined;

function readEab(
  section: IniSection, read: Read, endpoint: Endpoint, cwd: string, report: Reporter, checks: PathCheck[],
): AcmeEndpoint['eab'] {
  const kid = read('eabKid');
  const key = read('eabHmacKey');
  const keyFile = read('eabHmacKeyFile');
  if (key && keyFile) {
    report.error(keyFile.entry.line, `${keyFile.entry.rawKey}: set eabHmacKey or eabHmacKeyFile, not both (eabHmacKey is on line ${key.entry.line})`);
    return null;
  }
  const secret = key ?? keyFile;
  if (kid && !secret) {
    report.error(kid.entry.line, `${kid.entry.rawKey}: needs eabHmacKey or eabHmacKeyFile in [${section.name}]`);
    return null;
  }
  if (secret && !kid) {
    report.error(secret.entry.line, `${secret.entry.rawKey}: needs eabKid in [${section.name}]`);
    return null;
  }
  if (!kid || !secret) return null;
  if (kid.value === '') report.error(kid.entry.line, `${kid.entry.rawKey}: empty value`);
  if (keyFile) {
    if (keyFile.value === '') {
      report.error(keyFile.entry.line, `${keyFile.entry.rawKey}: empty path`);
      return null;
    }
    const { rawKey, line } = keyFile.entry;
    checks.push({ kind: 'eabHmacKeyFile', path: resolve(cwd, keyFile.value), written: keyFile.value, rawKey, line, endpoint });
    return { kid: kid.value, hmacKey: '' };
  }
  const hmacKey = parseHmacKey(key!.value);
  if (hmacKey === null) report.error(key!.entry.line, `${key!.entry.rawKey}: ${HMAC_KEY_PROBLEM}`);
  return { kid: kid.value, hmacKey: hmacKey ?? '' };
}

/** The `mailto:` URLs of a `contact` value (space-separated); `bad` gets a message for each token that is none. */
export function parseContacts(value: string, bad: (message: string) => void): string[] {
  const urls: string[] = [];
  for (const token of value.split(/\s+/).filter(Boolean)) {
    const url = normaliseContact(token);
    if (url) urls.push(url);
    else bad(`"${token}" is not an e-mail address or mailto: URL${token.includes(',') ? ' (separate addresses with spaces)' : ''}`);
  }
  return urls;
}

/** Why `value` cannot be a profile name, or null. RFC 8555 leaves names to the CA; Let's Encrypt's are short lowercase words. */
export function profileNameProblem(value: string): string | null {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value) ? null : `"${value}" is not a profile name (letters, digits, ".", "_", "-")`;
}

/** `ordersPer3Hours` or `certsPerDomainPerWeek`: a whole number from 1 to 1,000,000, else null. */
export function parseBudgetFigure(value: string): number | null {
  const n = parseInteger(value);
  return n !== null && n >= 1 && n <= 1_000_000 ? n : null;
}

/** The message for a value {@link parseBudgetFigure} refuses. */
export function budgetFigureProblem(value: string): string {
  return `must be a whole number from 1 to 1000000, got "${value}"`;
}

/** Message used when an EAB HMAC key (written inline or held in a file) is not base64url. */
export const HMAC_KEY_PROBLEM = 'not a base64url key (letters, digits, "-" and "_")';

/** Returns the EAB HMAC key with surrounding blanks and `=` padding removed, or null if not base64url. */
export function parseHmacKey(text: string): string | null {
  const key = text.trim().replace(/=+$/, '');
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : null;
}

/**
 * Returns why `text` cannot be an ACME directory URL, or null if it can: it must be https, or
 * http to a loopback host (127.0.0.0/8, ::1, localhost) for local test CAs such as Pebble.
 */
export function checkDirectoryUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol === 'https:') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (url.protocol === 'http:' && loopback) return null;
  return `"${text}" must be an https URL (plain http only for localhost, 127.0.0.0/8 or ::1)`;
}

/**
 * Returns `token` as a `mailto:` URL if it is a bare e-mail address or already a mailto: URL
 * (scheme in any case), or null otherwise.
 */
export function normaliseContact(token: string): string | null {
  const address = /^mailto:/i.test(token) ? token.slice('mailto:'.length) : token;
  return /^[^\s@,;<>()"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(address) ? `mailto:${address}` : null;
}
