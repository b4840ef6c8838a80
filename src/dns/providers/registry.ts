/**
 * The one list of DNS-01 providers (lego `providers/dns/zz_gen_dns_providers.go`). A provider is
 * added here and in its own folder, `<name>/descriptor.ts` + `<name>/provider.ts`; nothing else
 * names it. Config parsing imports the descriptors only; each provider's code is loaded when a
 * run first needs it, so a night with nothing due loads none of it.
 */
import type { DnsServer } from '../transport.ts';
import { acmeDns } from './acme-dns/descriptor.ts';
import type { DnsProviderDescriptor } from './descriptor.ts';
import { exec } from './exec/descriptor.ts';
import type { DnsRecordProvider } from './provider.ts';
import { rfc2136 } from './rfc2136/descriptor.ts';

/** Every provider, in the order the docs and messages list them. */
export const DESCRIPTORS = [rfc2136, exec, acmeDns] as const;

/** The settings of any provider; `kind` says which. */
export type DnsProviderSettings = NonNullable<ReturnType<(typeof DESCRIPTORS)[number]['parse']>>;

/** Names accepted by `provider:` in a `[dns:*]` section. */
export type ProviderName = DnsProviderSettings['kind'];

/** Names accepted by `provider:` in a `[dns:*]` section, in the order the docs list them. */
export const PROVIDER_NAMES: readonly ProviderName[] = DESCRIPTORS.map((d) => d.name);

/** True when `name` is a known provider (exact spelling). */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** The message for an unknown `provider:` value, listing every known name. */
export function unknownProviderMessage(name: string): string {
  return `unknown DNS provider "${name}"; known providers: ${PROVIDER_NAMES.join(', ')}`;
}

/** The descriptor of provider `name`. */
export function descriptorOf<K extends ProviderName>(name: K): DnsProviderDescriptor<Extract<DnsProviderSettings, { kind: K }>> {
  return DESCRIPTORS.find((d) => d.name === name) as DnsProviderDescriptor<Extract<DnsProviderSettings, { kind: K }>>;
}

/**
 * Creates the provider `settings` describe (its `kind` picks the descriptor). Throws only if a
 * provider module cannot be loaded.
 */
export function createProvider(settings: DnsProviderSettings): Promise<DnsRecordProvider> {
  return descriptorOf(settings.kind).load(settings);
}

/** The servers the provider of `settings` writes to (see DnsProviderDescriptor.serversToCheck). */
export function serversToCheck(settings: DnsProviderSettings): DnsServer[] {
  return descriptorOf(settings.kind).serversToCheck?.(settings) ?? [];
}
