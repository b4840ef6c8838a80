/**
 * The PostgreSQL store's tables. Columns are real where the store queries or orders by them,
 * times are `timestamptz`, string lists `text[]`, and JSON values (a JWK, an ACME problem) `json`,
 * which keeps them as sent.
 */
import type pg from 'pg';

/** The schema this code writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 1;

/** pg_advisory_xact_lock key that serialises schema set-up between brokers opening at once. */
const SCHEMA_LOCK = 0x63_66_62_72; // "cfbr"

const TABLES = `
CREATE TABLE IF NOT EXISTS broker_devices (
  id text PRIMARY KEY,
  names text[] NOT NULL,
  eab_kid text NOT NULL UNIQUE,
  eab_hmac_key text NOT NULL,
  enrolled_at timestamptz NOT NULL,
  removed_at timestamptz
);
CREATE TABLE IF NOT EXISTS broker_accounts (
  id text PRIMARY KEY,
  device text NOT NULL,
  jwk json NOT NULL,
  thumbprint text NOT NULL UNIQUE,
  contact text[] NOT NULL,
  created_at timestamptz NOT NULL,
  status text NOT NULL
);
CREATE TABLE IF NOT EXISTS broker_orders (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  account text NOT NULL,
  device text NOT NULL,
  identifiers text[] NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  csr_pem text,
  finalized_at timestamptz,
  replaces text,
  renewal boolean NOT NULL,
  not_before timestamptz,
  lease_owner text,
  lease_until timestamptz,
  upstream_order_url text,
  attempts integer NOT NULL,
  certificate text,
  error json
);
CREATE INDEX IF NOT EXISTS broker_orders_queue ON broker_orders (status, not_before);
CREATE INDEX IF NOT EXISTS broker_orders_account ON broker_orders (account, created_at);
CREATE TABLE IF NOT EXISTS broker_certificates (
  id text PRIMARY KEY,
  order_id text NOT NULL,
  account text NOT NULL,
  device text NOT NULL,
  chain_pem text NOT NULL,
  cert_id text NOT NULL UNIQUE,
  names text[] NOT NULL,
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  issued_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS broker_certificates_device ON broker_certificates (device);
CREATE TABLE IF NOT EXISTS broker_ledger (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  account text NOT NULL,
  domains text[] NOT NULL,
  exempt boolean NOT NULL,
  device_order text
);
CREATE INDEX IF NOT EXISTS broker_ledger_at ON broker_ledger (at);
CREATE TABLE IF NOT EXISTS broker_nonces (
  value text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS broker_nonces_expiry ON broker_nonces (expires_at);
`;

/**
 * Creates the tables when missing and records the schema version, in one transaction under an
 * advisory lock, so brokers opening the same database at once neither race nor fail. Throws
 * when the database holds a newer schema than this code knows (`where` names the database).
 */
export async function ensureSchema(client: pg.PoolClient, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS broker_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM broker_schema WHERE id = 1');
    const found = rows[0]?.version ?? null;
    if (found !== null && found > SCHEMA_VERSION) {
      throw new Error(
        `${where}: the broker tables are at schema version ${found}, newer than this certfleet's ` +
          `${SCHEMA_VERSION}; run the certfleet that wrote them (or a newer one)`,
      );
    }
    if (found === null || found < SCHEMA_VERSION) {
      await client.query(TABLES);
      await client.query(
        'INSERT INTO broker_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version',
        [SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
