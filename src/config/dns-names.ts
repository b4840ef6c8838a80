/**
 * Names in `[dns:*]` sections and the rules that tie domains to them: which setup a name
 * belongs to, and that every wildcard has one (DNS-01 is the only way to validate it,
 * RFC 8555 §7.1.3).
 */
import type { DomainLine } from './domains.ts';
import type { Reporter } from './reporter.ts';

/** A zone some `[dns:*]` section lists, valid section or not. */
export interface ZoneClaim {
  zone: string;
  section: string;
  line: number;
}

const ZONE_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A zone name in lower case without its trailing dot, or null when it is not one: labels of
 * letters, digits, `-` and `_` (delegation targets such as `_acme.example.org` are zones
 * too), at most 253 characters, no wildcard.
 */
export function parseZoneName(text: string): string | null {
  const name = text.toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253) return null;
  return name.split('.').every((label) => ZONE_LABEL.test(label)) ? name : null;
}

/** The name a DNS identifier is validated for: lower case, `*.` and a trailing dot removed. */
export function baseName(identifier: string): string {
  return identifier.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '');
}

/** True when `name` equals `zone` or lies under it (both lower case, no trailing dot). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * The setup whose zones hold `identifier` (a wildcard counts as its base name), or undefined.
 * Zones of two setups never overlap (config rule), so at most one matches.
 */
export function findDnsSetup<T extends { zones: readonly string[] }>(identifier: string, setups: readonly T[]): T | undefined {
  const name = baseName(identifier);
  return setups.find((s) => s.zones.some((zone) => inZone(name, zone)));
}

/**
 * Reports every wildcard name of `lines` that no `[dns:*]` zone holds: it could never be
 * validated. `zones` are those of lematt.conf (see parseDnsSetups).
 */
export function checkWildcardNames(lines: readonly DomainLine[], zones: readonly ZoneClaim[], report: Reporter): void {
  for (const line of lines) {
    const seen = new Set<string>();
    for (const name of line.names) {
      if (!name.startsWith('*.') || seen.has(name.toLowerCase())) continue;
      seen.add(name.toLowerCase());
      const base = baseName(name);
      if (!zones.some((z) => inZone(base, z.zone))) {
        report.error(line.line, `wildcard ${name} needs DNS-01 validation: no [dns:*] section of lematt.conf lists a zone holding ${base}`);
      }
    }
  }
}
