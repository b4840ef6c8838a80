/**
 * `[dns:<name>]` sections of lematt.conf: one DNS-01 setup each, saying which zones it serves,
 * which provider writes their TXT records and where propagation is checked. The keys every
 * section takes are read here; each provider's own keys by its descriptor (src/dns/providers/).
 * Pure: the secret files a section names become PathChecks that load.ts reads and dns-files.ts
 * hands to the provider's descriptor.
 */
import { resolve } from 'node:path';
import type { SectionInput } from '../dns/providers/descriptor.ts';
import { DESCRIPTORS, descriptorOf, isProviderName, PROVIDER_NAMES, unknownProviderMessage, type DnsProviderSettings, type ProviderName } from '../dns/providers/registry.ts';
import { parseServerAddress } from '../dns/server-address.ts';
import type { DnsServer } from '../dns/transport.ts';
import type { PathCheck } from './acme-endpoints.ts';
import { parseZoneName } from './dns-names.ts';
import { DEFAULT_SECTION, type IniDocument, type IniEntry, type IniSection, visibleEntries } from './ini.ts';
import { readValue, referencedKeys } from './interpolation.ts';
import { closestMatch, type Reporter } from './reporter.ts';
import { parseDecimal, splitKnownKeys } from './values.ts';

export { findDnsSetup, checkWildcardNames, type ZoneClaim } from './dns-names.ts';

/** One `[dns:<name>]` section, typed. */
export interface DnsSetup {
  /** `internal` for `[dns:internal]`. */
  name: string;
  /** Line of the section header. */
  line: number;
  /** Lower case, no trailing dot; names equal to or under one of them use this setup. */
  zones: string[];
  provider: DnsProviderSettings;
  /**
   * Servers asked directly whether the records are served; null: the authoritative servers of
   * each record's zone, found through DNS, and the provider's own (rfc2136's `server`).
   */
  nameservers: DnsServer[] | null;
  propagationTimeoutSeconds: number;
}

/** A key's entry and its interpolated value. */
type Found = { entry: IniEntry; value: string };
/** Reads one key of the section (canonical spelling), or undefined when absent or unreadable. */
type Read = (key: string) => Found | undefined;

/** Keys every `[dns:*]` section takes. */
export const DNS_COMMON_KEYS = ['zones', 'provider', 'nameservers', 'propagationTimeout'] as const;
/** Keys of each provider, from its descriptor. */
export const DNS_PROVIDER_KEYS = Object.fromEntries(DESCRIPTORS.map((d) => [d.name, d.keys])) as Readonly<Record<ProviderName, readonly string[]>>;
/** Every key a `[dns:*]` section may hold, for the `[DEFAULT]` check. */
export const DNS_KEYS: readonly string[] = [...DNS_COMMON_KEYS, ...Object.values(DNS_PROVIDER_KEYS).flat()];

/** Seconds the wait for propagation lasts unless `propagationTimeout` says otherwise. */
export const DEFAULT_PROPAGATION_TIMEOUT_S = 120;

/**
 * Parses every `[dns:*]` section of `doc`. Never throws: problems are reported (missing or
 * unknown provider, missing keys or secret, bad values, zones of two sections that are equal
 * or nested), and only sections without errors are returned in `setups`. `zones` lists the
 * zones of every section, valid or not, so that domains are checked against what the user
 * meant. Files to read are added to `checks`.
 */
export function parseDnsSetups(
  doc: IniDocument, cwd: string, report: Reporter, checks: PathCheck[],
): { setups: DnsSetup[]; zones: { zone: string; section: string; line: number }[] } {
  const setups: DnsSetup[] = [];
  const zones: { zone: string; section: string; line: number }[] = [];
  for (const section of doc.sections.filter((s) => s.name.startsWith('dns:'))) {
    let failed = false;
    const problem: Reporter = { file: report.file, warning: report.warning, error: (l, m) => { failed = true; report.error(l, m); } };
    const setup = parseSetup(doc, section, cwd, problem, checks);
    for (const claim of setup.zones) {
      const clash = zones.find((z) => z.section !== section.name && (z.zone === claim.zone || under(claim.zone, z.zone) || under(z.zone, claim.zone)));
      if (clash) {
        problem.error(claim.line, `zones: "${claim.zone}" overlaps "${clash.zone}" of [${clash.section}] (line ${clash.line}); a name must belong to one [dns:*] section`);
      }
      zones.push({ zone: claim.zone, section: section.name, line: claim.line });
    }
    if (!failed && setup.value) setups.push(setup.value);
  }
  return { setups, zones };
}

function under(name: string, zone: string): boolean {
  return name.endsWith(`.${zone}`);
}

function parseSetup(
  doc: IniDocument, section: IniSection, cwd: string, report: Reporter, checks: PathCheck[],
): { value: DnsSetup | null; zones: { zone: string; line: number }[] } {
  const where = `[${section.name}]`;
  const name = section.name.slice('dns:'.length);
  if (name === '') report.error(section.line, `${where}: give the setup a name, as in [dns:internal]`);
  const entries = visibleEntries(doc, section);
  const providerEntry = entries.find((e) => e.key === 'provider');
  const providerName = providerEntry ? readValue(doc, section, providerEntry, report) : null;
  const provider = providerName !== null && isProviderName(providerName) ? providerName : null;
  const read = readerFor(doc, section, entries, provider, report);

  const zones = readZones(read('zones'), where, section.line, report);
  const nameservers = readServers(read('nameservers'), report);
  const propagationTimeoutSeconds = readSeconds(read('propagationTimeout'), DEFAULT_PROPAGATION_TIMEOUT_S, report);
  let settings: DnsProviderSettings | null = null;
  if (!providerEntry) {
    report.error(section.line, `${where}: provider is required (${PROVIDER_NAMES.join(', ')})`);
  } else if (providerName !== null && !provider) {
    const guess = closestMatch(providerName, PROVIDER_NAMES);
    report.error(providerEntry.line, `${providerEntry.rawKey}: ${unknownProviderMessage(providerName)}${guess ? ` (did you mean ${guess}?)` : ''}`);
  } else if (provider) {
    settings = descriptorOf(provider).parse(sectionInput(provider, read, where, section, cwd, report, checks));
  }
  const value = settings && zones.length > 0
    ? { name, line: section.line, zones: zones.map((z) => z.zone), provider: settings, nameservers, propagationTimeoutSeconds }
    : null;
  return { value, zones };
}

/** What a provider's descriptor reads its keys with, and where the files it names go. */
function sectionInput(
  provider: ProviderName, read: Read, where: string, section: IniSection, cwd: string, report: Reporter, checks: PathCheck[],
): SectionInput {
  return {
    where,
    line: section.line,
    read,
    required(key, why) {
      const found = read(key);
      if (!found) report.error(section.line, `${where}: ${key} is required with provider ${provider} (${why})`);
      else if (found.value === '') report.error(found.entry.line, `${found.entry.rawKey}: empty value`);
      return found && found.value !== '' ? found : undefined;
    },
    seconds: (key, fallback) => readSeconds(read(key), fallback, report),
    secretFile(key, found) {
      const path = resolve(cwd, found.value);
      const { rawKey, line } = found.entry;
      checks.push({ kind: 'dnsSecretFile', path, written: found.value, rawKey, line, setup: section.name, secret: { provider, key } });
      return path;
    },
    report,
  };
}

/** A number of seconds > 0, or `fallback` when absent; reports anything else. */
function readSeconds(found: Found | undefined, fallback: number, report: Reporter): number {
  if (!found) return fallback;
  const n = parseDecimal(found.value);
  if (n !== null && n > 0) return n;
  report.error(found.entry.line, `${found.entry.rawKey}: must be a number of seconds > 0, got "${found.value}"`);
  return fallback;
}

/**
 * A reader of the section's keys: warns about unknown keys (naming the known ones) and about
 * keys of another provider, and reads values with `%` interpolation.
 */
function readerFor(doc: IniDocument, section: IniSection, entries: IniEntry[], provider: ProviderName | null, report: Reporter): Read {
  const own = [...DNS_COMMON_KEYS, ...(provider ? DNS_PROVIDER_KEYS[provider] : Object.values(DNS_PROVIDER_KEYS).flat())];
  const others = new Map(
    Object.entries(DNS_PROVIDER_KEYS).flatMap(([p, keys]) => keys.filter((k) => !own.includes(k)).map((k) => [k.toLowerCase(), p] as const)),
  );
  const mine = entries.filter((e) => {
    const owner = others.get(e.key);
    if (owner && e.section !== DEFAULT_SECTION) report.warning(e.line, `${e.rawKey}: has no effect with provider ${provider} (it is a key of ${owner})`);
    return !owner;
  });
  const keys = splitKnownKeys(mine, own, `[${section.name}]`, report, referencedKeys(doc));
  return (key) => {
    const entry = keys.get(key);
    const value = entry ? readValue(doc, section, entry, report) : null;
    return entry && value !== null ? { entry, value } : undefined;
  };
}

function readZones(found: Found | undefined, where: string, line: number, report: Reporter): { zone: string; line: number }[] {
  if (!found) {
    report.error(line, `${where}: zones is required (the zones whose names use this setup, e.g. zones: example.com)`);
    return [];
  }
  const zones: { zone: string; line: number }[] = [];
  const words = found.value.split(/\s+/).filter(Boolean);
  if (words.length === 0) report.error(found.entry.line, `${found.entry.rawKey}: empty; list at least one zone`);
  for (const word of words) {
    const zone = parseZoneName(word);
    if (zone === null) report.error(found.entry.line, `${found.entry.rawKey}: "${word}" is not a zone name (letters, digits, "-" and "_" in dot-separated labels)`);
    else if (zones.some((z) => z.zone === zone)) report.warning(found.entry.line, `${found.entry.rawKey}: "${word}" is listed twice`);
    else zones.push({ zone, line: found.entry.line });
  }
  return zones;
}

function readServers(found: Found | undefined, report: Reporter): DnsServer[] | null {
  if (!found) return null;
  const servers: DnsServer[] = [];
  for (const word of found.value.split(/\s+/).filter(Boolean)) {
    const server = parseServerAddress(word);
    if (server) servers.push(server);
    else report.error(found.entry.line, `${found.entry.rawKey}: "${word}" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT`);
  }
  if (servers.length === 0 && found.value.trim() === '') report.error(found.entry.line, `${found.entry.rawKey}: empty; leave it out to check the authoritative servers`);
  return servers.length > 0 ? servers : null;
}

