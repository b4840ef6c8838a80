/**
 * The acme-dns provider's keys and its file of accounts (the JSON acme-dns clients store). The
 * implementation is provider.ts.
 */
import type { DnsProviderDescriptor, KeyValue, SecretFileProblems, SectionInput } from '../descriptor.ts';
import type { AcmeDnsAccount } from './provider.ts';

/** An acme-dns `[dns:*]` section, typed. The accounts are filled in from `credentialsFile` after parsing. */
export interface AcmeDnsSettings {
  kind: 'acme-dns';
  apiUrl: string;
  /** Absolute path of the accounts file. */
  credentialsFile: string;
  accounts: Record<string, AcmeDnsAccount>;
}

/** An acme-dns server, to which `_acme-challenge` names are delegated by CNAME. */
export const acmeDns: DnsProviderDescriptor<AcmeDnsSettings> = {
  name: 'acme-dns',
  keys: ['apiUrl', 'credentialsFile'],
  parse,
  secretFiles: { credentialsFile: readAccountsFile },
  async load(settings) {
    const { createAcmeDnsProvider } = await import('./provider.ts');
    return createAcmeDnsProvider({ apiUrl: settings.apiUrl, accounts: settings.accounts, source: settings.credentialsFile });
  },
};

function parse({ required, secretFile, report }: SectionInput): AcmeDnsSettings | null {
  const apiUrl = required('apiUrl', 'the acme-dns server, e.g. https://auth.example.org');
  const file = required('credentialsFile', 'the JSON file of acme-dns accounts, keyed by name');
  const url = apiUrl ? checkApiUrl(apiUrl, report) : null;
  if (!url || !file) return null;
  const path = secretFile('credentialsFile', file);
  return { kind: 'acme-dns', apiUrl: url, credentialsFile: path, accounts: {} };
}

function checkApiUrl(found: KeyValue, report: SectionInput['report']): string | null {
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

/** Fills the accounts of a `credentialsFile` in. */
function readAccountsFile(text: string, settings: AcmeDnsSettings | null, file: SecretFileProblems): void {
  const accounts = readAcmeDnsAccounts(text);
  if (typeof accounts === 'string') return file.error(`${file.where}: ${accounts}`);
  if (settings) settings.accounts = accounts;
}

/**
 * Accounts from the JSON object acme-dns clients store (certbot's acme-dns-auth, lego's
 * ACME_DNS_STORAGE_PATH): `{ "<name>": { username, password, subdomain, fulldomain, … } }`. A
 * message naming the first problem otherwise.
 */
export function readAcmeDnsAccounts(text: string): Record<string, AcmeDnsAccount> | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text around the fault, which here may be a password: say where only.
    return `not JSON${jsonErrorLine(text, (e as Error).message)}; check its quotes and commas`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'must be a JSON object of accounts keyed by name';
  const accounts: Record<string, AcmeDnsAccount> = {};
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const a = value as Record<string, unknown> | null;
    const missing = ['username', 'password', 'subdomain'].filter((k) => typeof a?.[k] !== 'string' || a[k] === '');
    if (typeof a !== 'object' || a === null || missing.length > 0) return `the account of "${name}" lacks ${missing.join(', ') || 'its fields'}`;
    const fulldomain = typeof a.fulldomain === 'string' && a.fulldomain !== '' ? a.fulldomain : undefined;
    accounts[name] = { username: a.username as string, password: a.password as string, subdomain: a.subdomain as string, ...(fulldomain ? { fulldomain } : {}) };
  }
  if (Object.keys(accounts).length === 0) return 'holds no accounts';
  return accounts;
}

/** ` (line N)` for a JSON.parse error whose message names a position, else nothing; never quotes the text. */
function jsonErrorLine(text: string, message: string): string {
  const at = /position (\d+)/.exec(message);
  if (!at) return '';
  return ` (line ${text.slice(0, Number(at[1])).split('\n').length})`;
}
