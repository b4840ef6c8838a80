/**
 * What the files named by `[dns:*]` sections must hold: a TSIG secret (`tsigSecretFile`) or
 * acme-dns accounts (`credentialsFile`). load.ts reads them and hands the text and mode here;
 * nothing here repeats a secret.
 */
import type { AcmeDnsAccount } from '../dns/providers/acme-dns/provider.ts';
import type { PathCheck } from './acme-endpoints.ts';
import type { DnsSetup } from './dns.ts';
import { isBase64 } from './dns-providers.ts';
import type { Reporter } from './reporter.ts';

/**
 * Checks the content of a `tsigSecretFile` or `credentialsFile` and, when `setups` holds its
 * section, fills in the secret or accounts. Warns when every user may read the file (`mode`
 * has o+r). Reports problems at the key's line; never throws.
 */
export function applyDnsFile(check: PathCheck, text: string, mode: number, setups: readonly DnsSetup[] | null, report: Reporter): void {
  const where = `${check.rawKey}: "${check.written}"`;
  if (mode & 0o004) {
    report.warning(check.line, `${where} is readable by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it holds a secret: chmod o-r it`);
  }
  const provider = setups?.find((s) => s.name === check.setup?.replace(/^dns:/, ''))?.provider;
  if (check.kind === 'tsigSecretFile') {
    const found = readTsigSecret(text);
    if ('problem' in found) return report.error(check.line, `${where}: ${found.problem}`);
    if (provider?.kind !== 'rfc2136') return;
    if (found.name && found.name.replace(/\.$/, '').toLowerCase() !== provider.tsig.name.replace(/\.$/, '').toLowerCase()) {
      report.warning(check.line, `${where} holds key "${found.name}", but tsigKey is "${provider.tsig.name}"; the server knows the key by the name certfleet sends`);
    }
    provider.tsig.secret = found.secret;
    return;
  }
  const accounts = readAcmeDnsAccounts(text);
  if (typeof accounts === 'string') return report.error(check.line, `${where}: ${accounts}`);
  if (provider?.kind === 'acme-dns') provider.accounts = accounts;
}

/**
 * The secret of a TSIG key file: either the base64 secret alone, or a key statement as
 * `tsig-keygen` writes it (`key "name" { algorithm hmac-sha256; secret "…"; };`), whose name is
 * returned too. A problem otherwise (the file's content is not quoted).
 */
export function readTsigSecret(text: string): { secret: string; name?: string } | { problem: string } {
  const statement = /\bkey\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/i.exec(text);
  if (statement) {
    const secret = /\bsecret\s+"([^"]*)"/i.exec(statement[2]!)?.[1];
    if (secret === undefined) return { problem: 'its key statement has no secret "…"; clause' };
    if (!isBase64(secret)) return { problem: 'the secret of its key statement is not base64' };
    return { secret, name: statement[1] };
  }
  const bare = text.trim();
  if (bare === '') return { problem: 'empty; it must hold the base64 secret, or a key statement as tsig-keygen prints it' };
  if (!isBase64(bare)) return { problem: 'not a base64 secret nor a key statement as tsig-keygen prints it' };
  return { secret: bare };
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
    return `not JSON (${(e as Error).message})`;
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
