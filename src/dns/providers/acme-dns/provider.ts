/**
 * DNS-01 through an acme-dns server (github.com/joohoi/acme-dns): `_acme-challenge.<name>` is a
 * CNAME to the account's `fulldomain`, and `POST <apiUrl>/update` sets its TXT value. acme-dns
 * keeps the two most recent values of each account, enough for a name and its wildcard, and has
 * no way to delete one: cleanup has nothing to do.
 */
import { normalizeName } from '../../names.ts';
import { DnsProviderError, type DnsRecordProvider } from '../provider.ts';

/** One registration, as acme-dns `/register` returns it and its clients store it. */
export interface AcmeDnsAccount {
  username: string;
  password: string;
  subdomain: string;
  /** `<subdomain>.<acme-dns zone>`, where `_acme-challenge.<name>` points. */
  fulldomain?: string;
}

/** Settings of the acme-dns provider. */
export interface AcmeDnsConfig {
  /** Base URL of the acme-dns API (`https://auth.example.org`). */
  apiUrl: string;
  /**
   * Accounts keyed by the name they serve (`example.com`, no `_acme-challenge.`, no `*.`), the
   * JSON object acme-dns clients (certbot's acme-dns-auth, lego, acme-dns-client) store.
   */
  accounts: Record<string, AcmeDnsAccount>;
  /** Where `accounts` came from, for messages. */
  source: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

/** Characters of an answer body quoted in an error. */
const BODY_SHOWN = 200;

/**
 * Creates an acme-dns provider. `present(fqdn, value)` finds the account whose `fulldomain` is
 * `fqdn` (the CNAME target) or whose name `fqdn` is `_acme-challenge.` of, and posts the value.
 * Throws DnsProviderError (code `acme-dns`) for a name without an account, a refused update
 * (status and acme-dns's error text), a timeout or a network error. The password never appears
 * in a message. `cleanup` resolves without a request.
 */
export function createAcmeDnsProvider(config: AcmeDnsConfig): DnsRecordProvider {
  const base = config.apiUrl.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 10_000;
  return {
    async present(fqdn, value) {
      const name = normalizeName(fqdn);
      const account = accountFor(name, config);
      const fail = (why: string, cause?: unknown) =>
        new DnsProviderError(`acme-dns update of ${name} (subdomain ${account.subdomain}) at ${base}/update: ${why}`, 'acme-dns', { cause });
      let res: Response;
      try {
        res = await fetch(`${base}/update`, {
          method: 'POST',
          headers: { 'X-Api-User': account.username, 'X-Api-Key': account.password, 'Content-Type': 'application/json' },
          body: JSON.stringify({ subdomain: account.subdomain, txt: value }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        throw fail(err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (err.cause?.code ?? err.cause?.message ?? err.message), e);
      }
      const body = await res.text().catch(() => '');
      if (res.status !== 200) throw fail(`HTTP ${res.status}${errorText(body)}`);
      let echoed: unknown;
      try {
        echoed = (JSON.parse(body) as { txt?: unknown }).txt;
      } catch {
        echoed = undefined;
      }
      if (echoed !== value) throw fail(`the answer does not confirm the value: ${JSON.stringify(body.slice(0, BODY_SHOWN))}`);
    },
    async cleanup() {
      // acme-dns has no delete; the value is replaced by the next two updates of the account.
    },
  };
}

/** The account serving `fqdn`; throws DnsProviderError listing the names that have one. */
function accountFor(fqdn: string, config: AcmeDnsConfig): AcmeDnsAccount {
  const entries = Object.entries(config.accounts);
  const byTarget = entries.find(([, a]) => a.fulldomain !== undefined && normalizeName(a.fulldomain) === fqdn);
  const byName = entries.find(([domain]) => `_acme-challenge.${normalizeName(domain).replace(/^\*\./, '')}` === fqdn);
  const found = byTarget ?? byName;
  if (found) return found[1];
  const known = entries.map(([domain]) => domain).join(', ') || 'none';
  throw new DnsProviderError(
    `acme-dns: no account in ${config.source} for ${fqdn} (neither its fulldomain nor _acme-challenge. of its name); accounts for: ${known}`,
    'acme-dns',
  );
}

/** `: <acme-dns error>` from a JSON error body (`{"error":"bad_txt"}`), or a short excerpt. */
function errorText(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string') return `: ${error}`;
  } catch {
    // not JSON
  }
  const text = body.trim().slice(0, BODY_SHOWN);
  return text ? `: ${JSON.stringify(text)}` : '';
}
