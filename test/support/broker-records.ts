/**
 * Broker records (src/broker/types.ts) for store tests: complete, valid, at fixed times, each
 * overridable. Times are `toISOString()` values, as every store returns them.
 */
import type { BrokerCertificate, BrokerOrder, Device, DeviceAccount, LedgerEntry } from '../../src/broker/types.ts';

/** The tests' "now": 2026-03-01T12:00:00.000Z. */
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** T0 + `ms`, as an ISO string. */
export const at = (ms: number): string => new Date(T0 + ms).toISOString();

/** T0 + `ms`, as a Date. */
export const when = (ms: number): Date => new Date(T0 + ms);

export const MINUTE = 60_000;

export function device(id: string, over: Partial<Device> = {}): Device {
  return {
    id,
    names: [`${id}.example.com`, `*.${id}.example.com`],
    eabKid: `${id}.kid1`, // `<device id>.<random>`, as enroll.ts makes them
    eabHmacKey: `hmac-${id}-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    enrolledAt: at(-60 * MINUTE),
    removedAt: null,
    ...over,
  };
}

export function account(id: string, dev: string, over: Partial<DeviceAccount> = {}): DeviceAccount {
  return {
    id,
    device: dev,
    jwk: { kty: 'EC', crv: 'P-256', x: `x-${id}`, y: `y-${id}` },
    thumbprint: `thumb-${id}`,
    contact: [`mailto:ops+${id}@example.com`],
    createdAt: at(-30 * MINUTE),
    status: 'valid',
    ...over,
  };
}

export function order(id: string, acct: string, dev: string, over: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id,
    account: acct,
    device: dev,
    identifiers: [`${dev}.example.com`],
    status: 'ready',
    createdAt: at(-20 * MINUTE),
    expiresAt: at(7 * 24 * 60 * MINUTE),
    csrPem: null,
    finalizedAt: null,
    replaces: null,
    renewal: false,
    notBefore: null,
    lease: null,
    upstreamOrderUrl: null,
    attempts: 0,
    certificate: null,
    error: null,
    ...over,
  };
}

/** A finalized order waiting for the broker, finalized `finalizedMs` from T0. */
export function processing(id: string, finalizedMs: number, over: Partial<BrokerOrder> = {}): BrokerOrder {
  return order(id, 'acct-q', 'dev-q', {
    status: 'processing',
    csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
    finalizedAt: at(finalizedMs),
    ...over,
  });
}

export function certificate(id: string, dev: string, over: Partial<BrokerCertificate> = {}): BrokerCertificate {
  return {
    id,
    order: id,
    account: `acct-${dev}`,
    device: dev,
    chainPem: `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`,
    certId: `aki-${id}.serial-${id}`,
    names: [`${dev}.example.com`],
    notBefore: at(-MINUTE),
    notAfter: at(90 * 24 * 60 * MINUTE),
    issuedAt: at(0),
    ...over,
  };
}

export function ledger(atMs: number, acct: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return { at: at(atMs), account: acct, domains: ['example.com'], exempt: false, ...over };
}
