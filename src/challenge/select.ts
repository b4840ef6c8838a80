/**
 * Which challenge proves each name: dns-01 for names under a `[dns:*]` zone (wildcards
 * included, which only dns-01 can prove), the drop-dir http-01 solver for every other name.
 */
import { getServers } from 'node:dns';
import { findDnsSetup } from '../config/dns-names.ts';
import type { DnsSetup } from '../config/dns.ts';
import type { DnsServer } from '../dns/client.ts';
import type { DnsRecordProvider } from '../dns/providers/provider.ts';
import { createProvider, serversToCheck } from '../dns/providers/registry.ts';
import { parseServerAddress } from '../dns/server-address.ts';
import { createDns01Solver, type Dns01Setup } from './dns01.ts';
import type { ArtifactJournal } from './artifact-journal.ts';
import type { Solver } from './solver.ts';

/**
 * Returns `fallback` itself when there is no `[dns:*]` setup; otherwise a solver that acts as
 * `fallback` and whose `solverFor(identifier)` returns one dns-01 solver (shared by all orders
 * of the run) for names under a setup's zones, and `fallback` for the rest. `log` receives
 * dns-01 progress. Never throws; providers are created on first use.
 */
export function selectSolver(fallback: Solver, setups: readonly DnsSetup[], log: (message: string) => void, journal?: ArtifactJournal): Solver {
  if (setups.length === 0) return fallback;
  const dns01 = createDns01Solver({ setups: setups.map(runtimeSetup), log, journal });
  return {
    type: fallback.type,
    present: (identifier, token, keyAuthorization) => fallback.present(identifier, token, keyAuthorization),
    cleanup: (identifier, token, keyAuthorization) => fallback.cleanup(identifier, token, keyAuthorization),
    solverFor: (identifier) => (findDnsSetup(identifier, setups) ? dns01 : fallback),
  };
}

/** A configured setup as the dns-01 solver uses it. */
export function runtimeSetup(setup: DnsSetup): Dns01Setup {
  const own = serversToCheck(setup.provider);
  return {
    label: `[dns:${setup.name}] ${setup.provider.kind}`,
    zones: setup.zones,
    provider: lazyProvider(setup),
    // The provider's own servers (rfc2136's primary) and the configured name servers are
    // authoritative, so they answer without recursion; failing both, the system's resolver.
    lookup: own[0] ?? setup.nameservers?.[0] ?? systemResolver(),
    nameservers: setup.nameservers,
    alsoCheck: own,
    propagationTimeoutMs: setup.propagationTimeoutSeconds * 1000,
    name: setup.name,
  };
}

/** A provider whose module is loaded and created on the first call. */
function lazyProvider(setup: DnsSetup): DnsRecordProvider {
  let made: Promise<DnsRecordProvider> | undefined;
  const get = () => (made ??= createProvider(setup.provider));
  return {
    present: async (fqdn, value) => (await get()).present(fqdn, value),
    cleanup: async (fqdn, value) => (await get()).cleanup(fqdn, value),
  };
}

/** The first resolver of /etc/resolv.conf as Node reads it, or null. */
function systemResolver(): DnsServer | null {
  const first = getServers()[0];
  return first ? parseServerAddress(first) : null;
}
