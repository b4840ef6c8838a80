/**
 * Enrolling a device: the names it may hold, and a fresh EAB key pair (key id and MAC key)
 * that its ACME client uses once to bind its account (RFC 8555 §7.3.4) and `certfleet
 * address` uses for every address update. Enrolling again replaces the names and rotates the
 * key; a removed device enrolled again is active again.
 */
import { randomBytes } from 'node:crypto';
import { findDnsSetup } from '../config/dns-names.ts';
import type { DnsSetup } from '../config/dns.ts';
import type { Device } from './types.ts';

/** Device ids: what an operator writes, safe as a file name. */
export const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A DNS name: labels of letters, digits and hyphens; `*.` allowed in front. */
const NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The names, normalised, or the problems with them (each naming the bad name). */
export function checkNames(names: readonly string[], setups: readonly DnsSetup[]): { names: string[]; problems: string[] } {
  const problems: string[] = [];
  const out = new Set<string>();
  if (names.length === 0) problems.push('give at least one name');
  for (const raw of names) {
    const name = raw.toLowerCase().replace(/\.$/, '');
    if (!NAME.test(name) || name.length > 253) {
      problems.push(`"${raw}" is not a DNS name (or *.name)`);
      continue;
    }
    if (!findDnsSetup(name, setups)) {
      problems.push(`"${raw}" is under no zone of broker.conf's [dns:*] sections (the broker proves names with DNS-01)`);
      continue;
    }
    out.add(name);
  }
  if (out.size > 100) problems.push(`${out.size} names: a certificate holds at most 100`);
  return { names: [...out].sort(), problems };
}

/** The device record an enrollment stores: the names given and a new key (replacing any earlier one). */
export function enrolledDevice(id: string, names: string[], now: Date): Device {
  return {
    id,
    names,
    eabKid: `${id}.${randomBytes(9).toString('base64url')}`,
    eabHmacKey: randomBytes(32).toString('base64url'),
    enrolledAt: now.toISOString(),
    removedAt: null,
  };
}
