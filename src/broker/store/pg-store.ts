/**
 * The broker store on PostgreSQL (`store: postgres://…`): several brokers share one database and
 * split the work through order leases. Every write is one statement in its own transaction, so
 * it is committed (durable) when its promise resolves; `claimOrders` and `updateOrder` are single
 * statements whose conditions PostgreSQL re-checks on the row it locks, which makes them atomic
 * against other brokers. Loaded only when the settings name a postgres URL (open.ts).
 */
import pg from 'pg';
import type { BrokerCertificate, BrokerOrder, Device, DeviceAccount, LedgerEntry, OrderStatus } from '../types.ts';
import { queueOrder } from './lease.ts';
import { ensureSchema } from './pg-schema.ts';
import {
  ACCOUNT_COLUMNS, accountFromRow, accountParams, CERTIFICATE_COLUMNS, certificateFromRow, certificateParams,
  DEVICE_COLUMNS, deviceFromRow, deviceParams, ledgerFromRow, orderAssignments, orderFromRow, orderInsert,
} from './pg-rows.ts';
import type { BrokerStore, OrderExpectation, OrderPatch } from './store.ts';

const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;
/** Expired nonces are deleted at most this often (by the `now` of takeNonce). */
const NONCE_SWEEP_MS = 60_000;

/** `postgres host:port/db` for messages: never the user or password of the URL. */
export function describePgUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('store: not a valid postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`store: ${parsed.protocol}// is not a postgres:// URL`);
  }
  return `postgres ${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** An error's own text; Node's AggregateError (every address refused) has none of its own. */
function reason(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(reason).join('; ');
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

/**
 * Connects to `url`, creates or checks the schema (pg-schema.ts) and returns the store. Throws
 * an error naming host:port and the database (never the password) when it cannot connect or
 * log in, or when the database holds a newer schema.
 */
export async function openPgStore(url: string): Promise<BrokerStore> {
  const where = describePgUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'certfleet-broker',
  });
  // An idle connection the server dropped is discarded by the pool; the next query opens another.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect().catch((cause: unknown) => {
      throw new Error(`${where}: cannot connect: ${reason(cause)}`, { cause });
    });
    try {
      await ensureSchema(client, where);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return pgStore(pool, where);
}

function pgStore(pool: pg.Pool, where: string): BrokerStore {
  const query = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
    try {
      return await pool.query(sql, params);
    } catch (cause) {
      throw new Error(`${where}: ${reason(cause)}`, { cause });
    }
  };
  const one = async <T>(sql: string, params: unknown[], from: (row: pg.QueryResultRow) => T): Promise<T | null> => {
    const { rows } = await query(sql, params);
    return rows.length === 0 ? null : from(rows[0]);
  };
  let lastSweep = -Infinity;

  return {
    kind: 'postgres',

    async putDevice(device: Device) {
      await query(
        `INSERT INTO broker_devices (${DEVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET names = $2, eab_kid = $3, eab_hmac_key = $4, enrolled_at = $5, removed_at = $6`,
        deviceParams(device),
      );
    },
    getDevice: (id) => one('SELECT * FROM broker_devices WHERE id = $1', [id], deviceFromRow),
    deviceByKid: (kid) => one('SELECT * FROM broker_devices WHERE eab_kid = $1', [kid], deviceFromRow),
    async listDevices() {
      return (await query('SELECT * FROM broker_devices')).rows.map(deviceFromRow).sort((a, b) => a.id.localeCompare(b.id));
    },

    async createAccount(account: DeviceAccount) {
      const inserted = await one(
        `INSERT INTO broker_accounts (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (thumbprint) DO NOTHING RETURNING *`,
        accountParams(account),
        accountFromRow,
      );
      if (inserted) return { account: inserted, created: true };
      const existing = await one('SELECT * FROM broker_accounts WHERE thumbprint = $1', [account.thumbprint], accountFromRow);
      // Only a concurrent delete could get here, and accounts are never deleted.
      if (!existing) throw new Error(`${where}: account ${account.thumbprint} neither inserted nor found`);
      return { account: existing, created: false };
    },
    getAccount: (id) => one('SELECT * FROM broker_accounts WHERE id = $1', [id], accountFromRow),
    accountByThumbprint: (thumbprint) =>
      one('SELECT * FROM broker_accounts WHERE thumbprint = $1', [thumbprint], accountFromRow),

    async createOrder(order: BrokerOrder) {
      const { columns, params } = orderInsert(order);
      const values = params.map((_, i) => `$${i + 1}`).join(', ');
      await query(`INSERT INTO broker_orders (${columns.join(', ')}) VALUES (${values})`, params);
    },
    getOrder: (id) => one('SELECT * FROM broker_orders WHERE id = $1', [id], orderFromRow),
    updateOrder: (id, expect, patch) => updateOrder(one, id, expect, patch),
    async listOrders(filter: { account?: string; status?: readonly OrderStatus[] }) {
      const { rows } = await query(
        `SELECT * FROM broker_orders WHERE ($1::text IS NULL OR account = $1)
         AND ($2::text[] IS NULL OR status = ANY($2)) ORDER BY created_at, seq`,
        [filter.account ?? null, filter.status ?? null],
      );
      return rows.map(orderFromRow);
    },
    async claimOrders(owner: string, now: Date, leaseMs: number, limit: number) {
      // Rows another broker is claiming right now are skipped, not waited for; the row lock
      // makes PostgreSQL re-check the conditions on its newest version before the UPDATE.
      const { rows } = await query(
        `UPDATE broker_orders SET lease_owner = $1, lease_until = $2
         WHERE id IN (
           SELECT id FROM broker_orders
           WHERE status = 'processing' AND (lease_until IS NULL OR lease_until <= $3)
             AND (not_before IS NULL OR not_before <= $3)
           ORDER BY renewal DESC, finalized_at NULLS FIRST, id COLLATE "C"
           LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [owner, new Date(now.getTime() + leaseMs).toISOString(), now.toISOString(), Math.max(0, limit)],
      );
      // RETURNING keeps no order: sort as the subquery chose, which is the embedded store's order.
      return rows.map(orderFromRow).sort(queueOrder);
    },

    async putCertificate(cert: BrokerCertificate) {
      await query(
        `INSERT INTO broker_certificates (${CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET order_id = $2, account = $3, device = $4, chain_pem = $5, cert_id = $6,
           names = $7, not_before = $8, not_after = $9, issued_at = $10`,
        certificateParams(cert),
      );
    },
    getCertificate: (id) => one('SELECT * FROM broker_certificates WHERE id = $1', [id], certificateFromRow),
    certificateByCertId: (certId) =>
      one('SELECT * FROM broker_certificates WHERE cert_id = $1', [certId], certificateFromRow),
    async listCertificates(filter?: { device?: string }) {
      const { rows } = await query(
        'SELECT * FROM broker_certificates WHERE ($1::text IS NULL OR device = $1) ORDER BY issued_at, id',
        [filter?.device ?? null],
      );
      return rows.map(certificateFromRow);
    },

    async appendLedger(entry: LedgerEntry) {
      await query('INSERT INTO broker_ledger (at, account, domains, exempt, device_order) VALUES ($1, $2, $3, $4, $5)',
        [entry.at, entry.account, entry.domains, entry.exempt, entry.order ?? null]);
    },
    async ledgerSince(since: Date) {
      const { rows } = await query('SELECT * FROM broker_ledger WHERE at >= $1 ORDER BY at, seq', [since.toISOString()]);
      return rows.map(ledgerFromRow);
    },

    async addNonce(value: string, expiresAt: Date) {
      await query(
        'INSERT INTO broker_nonces (value, expires_at) VALUES ($1, $2) ON CONFLICT (value) DO UPDATE SET expires_at = $2',
        [value, expiresAt.toISOString()],
      );
    },
    async takeNonce(value: string, now: Date) {
      if (now.getTime() - lastSweep >= NONCE_SWEEP_MS) {
        lastSweep = now.getTime();
        await query('DELETE FROM broker_nonces WHERE expires_at <= $1', [now.toISOString()]);
      }
      const { rows } = await query('DELETE FROM broker_nonces WHERE value = $1 RETURNING expires_at', [value]);
      return rows.length === 1 && (rows[0].expires_at as Date).getTime() > now.getTime();
    },

    async close() {
      await pool.end();
    },
  };
}

type One = <T>(sql: string, params: unknown[], from: (row: pg.QueryResultRow) => T) => Promise<T | null>;

/** One UPDATE whose WHERE holds the expectation: no row, no change. */
function updateOrder(one: One, id: string, expect: OrderExpectation, patch: OrderPatch): Promise<BrokerOrder | null> {
  const { sets, params } = orderAssignments(patch, 2);
  const conditions = ['id = $1'];
  const all: unknown[] = [id, ...params];
  const param = (value: unknown): string => {
    all.push(value);
    return `$${all.length}`;
  };
  if (expect.status !== undefined) conditions.push(`status = ${param(expect.status)}`);
  if (expect.leaseOwner !== undefined) {
    // As the embedded store decides (lease.ts): a lease is live while now < until, and a named
    // owner must still hold a live one; without `now`, the clock's.
    const now = param((expect.now ?? new Date()).toISOString());
    conditions.push(expect.leaseOwner === null
      ? `(lease_owner IS NULL OR lease_until <= ${now})`
      : `(lease_owner = ${param(expect.leaseOwner)} AND lease_until > ${now})`);
  }
  return one(
    `UPDATE broker_orders SET ${sets.length > 0 ? sets.join(', ') : 'id = id'} WHERE ${conditions.join(' AND ')} RETURNING *`,
    all,
    orderFromRow,
  );
}
