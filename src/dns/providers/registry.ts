/**
 * The one list of DNS-01 providers (lego `providers/dns/zz_gen_dns_providers.go`). Config
 * parsing imports the names only; each provider's code is loaded when a run first needs it,
 * so a night with nothing due loads none of it.
 */
import type { DnsProviderSettings } from '../../config/dns.ts';
import type { DnsRecordProvider } from './provider.ts';

/** Names accepted by `provider:` in a `[dns:*]` section, in the order the docs list them. */
export const PROVIDER_NAMES = ['rfc2136', 'exec', 'acme-dns'] as const;

/** One of PROVIDER_NAMES. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** True when `name` is a known provider (exact spelling). */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** The message for an unknown `provider:` value, listing every known name. */
export function unknownProviderMessage(name: string): string {
  return `unknown DNS provider "${name}"; known providers: ${PROVIDER_NAMES.join(', ')}`;
}

/**
 * Creates the provider `settings` describe (its `kind` picks the file). Throws only if a
 * provider module cannot be loaded.
 */
export async function createProvider(settings: DnsProviderSettings): Promise<DnsRecordProvider> {
  switch (settings.kind) {
    case 'rfc2136': {
      const { createRfc2136Provider } = await import('./rfc2136/provider.ts');
      return createRfc2136Provider({ server: settings.server, tsig: settings.tsig });
    }
    case 'exec': {
      const { createExecProvider } = await import('./exec/provider.ts');
      return createExecProvider({ command: settings.command, timeoutMs: settings.timeoutSeconds * 1000 });
    }
    case 'acme-dns': {
      const { createAcmeDnsProvider } = await import('./acme-dns/provider.ts');
      return createAcmeDnsProvider({ apiUrl: settings.apiUrl, accounts: settings.accounts, source: settings.credentialsFile });
    }
  }
}
