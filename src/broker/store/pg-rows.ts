/**
 * Rows of the PostgreSQL store (pg-schema.ts) to records (../types.ts) and back. Times go in as
 * ISO strings and come out as `Date#toISOString()`, as the records carry them.
 */
import type { BrokerCertificate, BrokerOrder, Device, DeviceAccount, LedgerEntry, OrderStatus } from '../types.ts';
import type { OrderPatch } from './store.ts';

type Row = Record<string, unknown>;

const iso = (value: unknown): string => new Date(value as Date).toISOString();
const isoOrNull = (value: unknown): string | null => (value === null ? null : iso(value));

export const DEVICE_COLUMNS = 'id, names, eab_kid, eab_hmac_key, enrolled_at, removed_at';

export function deviceParams(d: Device): unknown[] {
  return [d.id, d.names, d.eabKid, d.eabHmacKey, d.enrolledAt, d.removedAt];
}

export function deviceFromRow(r: Row): Device {
  return {
    id: r.id as string,
    names: r.names as string[],
    eabKid: r.eab_kid as string,
    eabHmacKey: r.eab_hmac_key as string,
    enrolledAt: iso(r.enrolled_at),
    removedAt: isoOrNull(r.removed_at),
  };
}

export const ACCOUNT_COLUMNS = 'id, device, jwk, thumbprint, contact, created_at, status';

export function accountParams(a: DeviceAccount): unknown[] {
  return [a.id, a.device, JSON.stringify(a.jwk), a.thumbprint, a.contact, a.createdAt, a.status];
}

export function accountFromRow(r: Row): DeviceAccount {
  return {
    id: r.id as string,
    device: r.device as string,
    jwk: r.jwk as Record<string, unknown>,
    thumbprint: r.thumbprint as string,
    contact: r.contact as string[],
    createdAt: iso(r.created_at),
    status: r.status as DeviceAccount['status'],
  };
}

/** Order fields to their columns; `lease` spans two. */
const ORDER_FIELDS: Record<keyof BrokerOrder, string[]> = {
  id: ['id'],
  account: ['account'],
  device: ['device'],
  identifiers: ['identifiers'],
  status: ['status'],
  createdAt: ['created_at'],
  expiresAt: ['expires_at'],
  csrPem: ['csr_pem'],
  finalizedAt: ['finalized_at'],
  replaces: ['replaces'],
  renewal: ['renewal'],
  notBefore: ['not_before'],
  lease: ['lease_owner', 'lease_until'],
  upstreamOrderUrl: ['upstream_order_url'],
  attempts: ['attempts'],
  certificate: ['certificate'],
  error: ['error'],
};

/** The parameter values of one order field, one per column. */
function orderFieldParams(field: keyof BrokerOrder, value: unknown): unknown[] {
  if (field === 'lease') {
    const lease = value as BrokerOrder['lease'];
    return [lease?.owner ?? null, lease?.until ?? null];
  }
  if (field === 'error') return [value === null ? null : JSON.stringify(value)];
  return [value];
}

/** Columns and values of a whole order, for INSERT. */
export function orderInsert(o: BrokerOrder): { columns: string[]; params: unknown[] } {
  const fields = Object.keys(ORDER_FIELDS) as (keyof BrokerOrder)[];
  return {
    columns: fields.flatMap((f) => ORDER_FIELDS[f]),
    params: fields.flatMap((f) => orderFieldParams(f, o[f])),
  };
}

/**
 * `col = $n` assignments for the fields `patch` sets (undefined values are left alone), numbered
 * from `firstParam`. Throws on a field an update may not set (`id`, `account`, `device`, `createdAt`).
 */
export function orderAssignments(patch: OrderPatch, firstParam: number): { sets: string[]; params: unknown[] } {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!(field in ORDER_FIELDS) || ['id', 'account', 'device', 'createdAt'].includes(field)) {
      throw new Error(`updateOrder: field ${field} cannot be changed`);
    }
    const key = field as keyof BrokerOrder;
    const values = orderFieldParams(key, value);
    ORDER_FIELDS[key].forEach((column, i) => {
      params.push(values[i]);
      sets.push(`${column} = $${firstParam + params.length - 1}`);
    });
  }
  return { sets, params };
}

export function orderFromRow(r: Row): BrokerOrder {
  return {
    id: r.id as string,
    account: r.account as string,
    device: r.device as string,
    identifiers: r.identifiers as string[],
    status: r.status as OrderStatus,
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    csrPem: r.csr_pem as string | null,
    finalizedAt: isoOrNull(r.finalized_at),
    replaces: r.replaces as string | null,
    renewal: r.renewal as boolean,
    notBefore: isoOrNull(r.not_before),
    lease: r.lease_owner === null ? null : { owner: r.lease_owner as string, until: iso(r.lease_until) },
    upstreamOrderUrl: r.upstream_order_url as string | null,
    attempts: r.attempts as number,
    certificate: r.certificate as string | null,
    error: r.error as BrokerOrder['error'],
  };
}

export const CERTIFICATE_COLUMNS = 'id, order_id, account, device, chain_pem, cert_id, names, not_before, not_after, issued_at';

export function certificateParams(c: BrokerCertificate): unknown[] {
  return [c.id, c.order, c.account, c.device, c.chainPem, c.certId, c.names, c.notBefore, c.notAfter, c.issuedAt];
}

export function certificateFromRow(r: Row): BrokerCertificate {
  return {
    id: r.id as string,
    order: r.order_id as string,
    account: r.account as string,
    device: r.device as string,
    chainPem: r.chain_pem as string,
    certId: r.cert_id as string,
    names: r.names as string[],
    notBefore: iso(r.not_before),
    notAfter: iso(r.not_after),
    issuedAt: iso(r.issued_at),
  };
}

export function ledgerFromRow(r: Row): LedgerEntry {
  return { at: iso(r.at), account: r.account as string, domains: r.domains as string[], exempt: r.exempt as boolean, ...(r.device_order ? { order: r.device_order as string } : {}) };
}
