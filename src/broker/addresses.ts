/**
 * The fleet's dynamic DNS: a device's enrolled names get the A/AAAA records it asked for,
 * written by the `[dns:*]` setup holding each name (providers that can: rfc2136). Private
 * addresses are fine: devices sit behind NAT and are reached inside their networks.
 */
import { isIP } from 'node:net';
import { findDnsSetup } from '../config/dns-names.ts';
import type { DnsSetup } from '../config/dns.ts';
import type { DnsRecordProvider } from '../dns/providers/provider.ts';
import { createProvider } from '../dns/providers/registry.ts';
import type { Device } from './types.ts';

/** TTL of address records: short, since devices move. */
export const ADDRESS_TTL = 300;
/** Most addresses one request may set. */
export const MAX_ADDRESSES = 16;

/** Why `addresses` cannot be set, or null: 1–16 IP literals (v4 or v6, no zone index). */
export function addressesProblem(addresses: readonly unknown[]): string | null {
  if (addresses.length === 0) return 'no address given';
  if (addresses.length > MAX_ADDRESSES) return `at most ${MAX_ADDRESSES} addresses`;
  const bad = addresses.filter((a) => typeof a !== 'string' || isIP(a) === 0);
  return bad.length ? `not an IP address: ${bad.map((a) => JSON.stringify(a)).join(', ')}` : null;
}

/** Writes address records through the broker's `[dns:*]` setups; providers are created once. */
export function createAddressWriter(setups: readonly DnsSetup[]): (device: Device, addresses: string[]) => Promise<{ names: string[] }> {
  const providers = new Map<string, Promise<DnsRecordProvider>>();
  const providerOf = (setup: DnsSetup) => {
    if (!providers.has(setup.name)) providers.set(setup.name, createProvider(setup.provider));
    return providers.get(setup.name)!;
  };
  return async (device, addresses) => {
    const problem = addressesProblem(addresses);
    if (problem) throw new Error(problem);
    const unique = [...new Set(addresses.map((a) => a.toLowerCase()))];
    // Every name's setup is checked before any record changes.
    const plan = device.names.map((name) => {
      const setup = findDnsSetup(name, setups);
      if (!setup) throw new Error(`${name}: no [dns:*] section of the broker holds this name`);
      return { name, setup };
    });
    const writers = await Promise.all(plan.map(async (p) => ({ ...p, provider: await providerOf(p.setup) })));
    const unable = writers.find((w) => !w.provider.setAddresses);
    if (unable) throw new Error(`${unable.name}: [dns:${unable.setup.name}] ${unable.setup.provider.kind} cannot write address records (rfc2136 can)`);
    for (const w of writers) await w.provider.setAddresses!(w.name, unique, ADDRESS_TTL);
    return { names: device.names };
  };
}
