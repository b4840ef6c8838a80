/**
 * The provider keys of a `[dns:*]` section (see dns.ts): what rfc2136, exec and acme-dns each
 * need, checked and typed. Secrets are never repeated in a message.
 */
import { resolve } from 'node:path';
import type { ProviderName } from '../dns/providers/registry.ts';
import type { TsigAlgorithm } from '../dns/tsig.ts';
import type { PathCheck } from './acme-endpoints.ts';
import type { DnsProviderSettings } from './dns.ts';
import { parseServerAddress } from './dns-names.ts';
import type { IniEntry } from './ini.ts';
import type { Reporter } from './reporter.ts';
import { parseDecimal } from './values.ts';

/** A key's entry and its interpolated value. */
export type Found = { entry: IniEntry; value: string };
/** Reads one key of the section (canonical spelling), or undefined when absent or unreadable. */
export type Read = (key: string) => Found | undefined;

/** Seconds an exec hook may run unless `timeout` says otherwise. */
export const DEFAULT_EXEC_TIMEOUT_S = 60;
const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'];

/** A number of seconds > 0, or `fallback` when absent; reports anything else. */
export function readSeconds(found: Found | undefined, fallback: number, report: Reporter): number {
  if (!found) return fallback;
  const n = parseDecimal(found.value);
  if (n !== null && n > 0) return n;
  report.error(found.entry.line, `${found.entry.rawKey}: must be a number of seconds > 0, got "${found.value}"`);
  return fallback;
}

/** Where a section is, for messages and paths. */
export interface SectionInfo {
  where: string;
  line: number;
  cwd: string;
  section: string;
}

/**
 * Reads the keys of `provider` and returns its settings, or null after reporting what is missing
 * or wrong. Files to read are added to `checks`.
 */
export function readProvider(provider: ProviderName, read: Read, info: SectionInfo, report: Reporter, checks: PathCheck[]): DnsProviderSettings | null {
  const required = (key: string, why: string): Found | undefined => {
    const found = read(key);
    if (!found) report.error(info.line, `${info.where}: ${key} is required with provider ${provider} (${why})`);
    else if (found.value === '') report.error(found.entry.line, `${found.entry.rawKey}: empty value`);
    return found && found.value !== '' ? found : undefined;
  };
  switch (provider) {
    case 'rfc2136':
      return readRfc2136(read, required, info, report, checks);
    case 'exec': {
      const command = required('command', 'the hook, run as: command present|cleanup FQDN VALUE');
      const timeoutSeconds = readSeconds(read('timeout'), DEFAULT_EXEC_TIMEOUT_S, report);
      return command ? { kind: 'exec', command: command.value, timeoutSeconds } : null;
    }
    case 'acme-dns': {
      const apiUrl = required('apiUrl', 'the acme-dns server, e.g. https://auth.example.org');
      const file = required('credentialsFile', 'the JSON file of acme-dns accounts, keyed by name');
      const url = apiUrl ? checkApiUrl(apiUrl, report) : null;
      if (!url || !file) return null;
      const path = resolve(info.cwd, file.value);
      checks.push({ kind: 'credentialsFile', path, written: file.value, rawKey: file.entry.rawKey, line: file.entry.line, setup: info.section });
      return { kind: 'acme-dns', apiUrl: url, credentialsFile: path, accounts: {} };
    }
  }
}

function readRfc2136(
  read: Read, required: (key: string, why: string) => Found | undefined, info: SectionInfo, report: Reporter, checks: PathCheck[],
): DnsProviderSettings | null {
  const serverFound = required('server', 'the primary that accepts updates, ADDRESS:PORT');
  const server = serverFound ? parseServerAddress(serverFound.value) : null;
  if (serverFound && !server) report.error(serverFound.entry.line, `${serverFound.entry.rawKey}: "${serverFound.value}" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT`);
  const key = required('tsigKey', 'the key name, as in the server\'s key statement');
  const algorithmFound = read('tsigAlgorithm');
  let algorithm: TsigAlgorithm = 'hmac-sha256';
  if (algorithmFound) {
    const a = algorithmFound.value.toLowerCase().replace(/\.$/, '');
    if (TSIG_ALGORITHMS.includes(a as TsigAlgorithm)) algorithm = a as TsigAlgorithm;
    else report.error(algorithmFound.entry.line, `${algorithmFound.entry.rawKey}: "${algorithmFound.value}" is not supported; use ${TSIG_ALGORITHMS.join(', ')}`);
  }
  const inline = read('tsigSecret');
  const file = read('tsigSecretFile');
  let secret = '';
  if (inline && file) {
    report.error(file.entry.line, `${file.entry.rawKey}: set tsigSecret or tsigSecretFile, not both (tsigSecret is on line ${inline.entry.line})`);
  } else if (!inline && !file) {
    report.error(info.line, `${info.where}: the TSIG secret is missing: set tsigSecretFile (a file only certfleet's user can read) or tsigSecret`);
  } else if (inline) {
    // The value itself is never repeated in a message.
    if (isBase64(inline.value)) secret = inline.value.trim();
    else report.error(inline.entry.line, `${inline.entry.rawKey}: not a base64 secret (as tsig-keygen prints it)`);
  } else if (file!.value === '') {
    report.error(file!.entry.line, `${file!.entry.rawKey}: empty path`);
  } else {
    const { rawKey, line } = file!.entry;
    checks.push({ kind: 'tsigSecretFile', path: resolve(info.cwd, file!.value), written: file!.value, rawKey, line, setup: info.section });
  }
  if (!server || !key) return null;
  return { kind: 'rfc2136', server, tsig: { name: key.value, algorithm, secret } };
}

/** True for standard base64 with optional padding, the form TSIG secrets are written in. */
export function isBase64(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t) && t.length % 4 !== 1;
}

function checkApiUrl(found: Found, report: Reporter): string | null {
  let url: URL;
  try {
    url = new URL(found.value);
  } catch {
    report.error(found.entry.line, `${found.entry.rawKey}: "${found.value}" is not a URL`);
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    report.error(found.entry.line, `${found.entry.rawKey}: "${found.value}" must be an https URL`);
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  if (url.protocol === 'http:' && !loopback) {
    report.warning(found.entry.line, `${found.entry.rawKey}: plain http sends the acme-dns password unencrypted; use https`);
  }
  return found.value;
}
