/**
 * The secret files named by `[dns:*]` sections (rfc2136's `tsigSecretFile`, acme-dns's
 * `credentialsFile`…). load.ts reads them; their provider's descriptor says what they must hold.
 * Nothing here repeats a secret.
 */
import { descriptorOf, isProviderName } from '../dns/providers/registry.ts';
import type { PathCheck } from './acme-endpoints.ts';
import type { DnsSetup } from './dns.ts';
import type { Reporter } from './reporter.ts';

/**
 * Checks the content of a `dnsSecretFile` with its provider's descriptor and, when `setups` holds
 * its section, fills in what it holds. Warns when every user may read the file (`mode` has o+r).
 * Reports problems at the key's line; never throws.
 */
export function applyDnsFile(check: PathCheck, text: string, mode: number, setups: readonly DnsSetup[] | null, report: Reporter): void {
  const where = `${check.rawKey}: "${check.written}"`;
  if (mode & 0o004) {
    report.warning(check.line, `${where} is readable by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it holds a secret: chmod o-r it`);
  }
  if (!check.secret || !isProviderName(check.secret.provider)) return;
  const descriptor = descriptorOf(check.secret.provider);
  const readFile = descriptor.secretFiles?.[check.secret.key];
  if (!readFile) return;
  const provider = setups?.find((s) => s.name === check.setup?.replace(/^dns:/, ''))?.provider;
  readFile(text, provider?.kind === descriptor.name ? provider : null, {
    where,
    error: (message) => report.error(check.line, message),
    warning: (message) => report.warning(check.line, message),
  });
}
