/**
 * The broker store contract (test/support/broker-store-contract.ts) against both stores: the
 * embedded one in a fresh temporary directory per test, and PostgreSQL in one cluster of this
 * file's own (test/support/postgres.ts), its tables dropped after each test. Then what only the
 * PostgreSQL store has: schema set-up by brokers opening at once, a newer schema refused, and
 * connection errors that name the server but never the password.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDirStore } from '../../src/broker/store/dir-store.ts';
import { openStore } from '../../src/broker/store/open.ts';
import { openPgStore } from '../../src/broker/store/pg-store.ts';
import { SCHEMA_VERSION } from '../../src/broker/store/pg-schema.ts';
import { device } from '../support/broker-records.ts';
import { storeContract } from '../support/broker-store-contract.ts';
import { freePort } from '../support/process.ts';
import { startPostgres, type RunningPostgres } from '../support/postgres.ts';

const run = promisify(execFile);
const TABLES = ['broker_schema', 'broker_devices', 'broker_accounts', 'broker_orders', 'broker_certificates', 'broker_ledger', 'broker_nonces'];

let dir = '';
storeContract(
  'dir',
  async () => {
    dir ||= await mkdtemp(join(tmpdir(), 'certfleet-store-'));
    return openDirStore(dir);
  },
  async () => {
    await rm(dir, { recursive: true, force: true });
    dir = '';
  },
);

describe('postgres store', () => {
  let cluster: RunningPostgres;
  const sql = async (text: string, params: unknown[] = []): Promise<pg.QueryResult> => {
    const client = new pg.Client(cluster.url);
    await client.connect();
    try {
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  };
  const dropTables = () => sql(`DROP TABLE IF EXISTS ${TABLES.join(', ')}`);

  before(async () => {
    const started = performance.now();
    cluster = await startPostgres();
    console.log(`# postgres cluster started in ${Math.round(performance.now() - started)} ms`);
  });
  after(() => cluster?.stop());

  storeContract('postgres', () => openPgStore(cluster.url), async () => { await dropTables(); });

  describe('beyond the contract', () => {
    afterEach(dropTables);

    it('sets the schema up once when brokers open a fresh database at once, and opens it again', async () => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(cluster.url)));
      for (const store of stores) await store.close();
      const { rows } = await sql('SELECT version FROM broker_schema');
      assert.deepEqual(rows, [{ version: SCHEMA_VERSION }]);
      const again = await openStore({ kind: 'postgres', url: cluster.url });
      assert.equal(again.kind, 'postgres');
      await again.close();
    });

    it('refuses a database whose schema is newer', async () => {
      await (await openPgStore(cluster.url)).close();
      await sql('UPDATE broker_schema SET version = $1', [SCHEMA_VERSION + 1]);
      const port = new URL(cluster.url).port;
      await assert.rejects(openPgStore(cluster.url), {
        message: `postgres 127.0.0.1:${port}/certfleet: the broker tables are at schema version ${SCHEMA_VERSION + 1}, ` +
          `newer than this certfleet's ${SCHEMA_VERSION}; run the certfleet that wrote them (or a newer one)`,
      });
    });

    it('names the server, never the password, when it cannot connect or log in', async () => {
      const url = new URL(cluster.url);
      const password = url.password;
      const closed = await freePort();
      await assert.rejects(openPgStore(`postgres://certfleet:${password}@127.0.0.1:${closed}/certfleet`), (error: Error) => {
        assert.match(error.message, new RegExp(`^postgres 127\\.0\\.0\\.1:${closed}/certfleet: cannot connect: .*ECONNREFUSED`));
        assert.ok(!error.message.includes(password));
        return true;
      });
      url.password = 'wrong-password';
      await assert.rejects(openPgStore(url.href), (error: Error) => {
        assert.match(error.message, new RegExp(`^postgres 127\\.0\\.0\\.1:${url.port}/certfleet: cannot connect: password authentication failed`));
        assert.ok(!error.message.includes('wrong-password'));
        return true;
      });
      await assert.rejects(openPgStore('http://example.com/'), { message: 'store: http:// is not a postgres:// URL' });
    });

    it('carries on when the server ends its connections', async () => {
      const store = await openPgStore(cluster.url);
      try {
        await store.putDevice(device('d1'));
        const { rows } = await sql(
          "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'certfleet-broker'",
        );
        assert.ok(rows.length > 0 && rows.every((r) => r.ended === true), 'the pool had a connection to end');
        // The pool learns of the ended connection from its socket, and drops it.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(await store.getDevice('d1'), device('d1'));
      } finally {
        await store.close();
      }
    });
  });

  it('is not loaded for a directory store', async () => {
    // A fresh process: this one has loaded pg already.
    const script = [
      "import { createRequire } from 'node:module';",
      "import { mkdtemp, rm } from 'node:fs/promises';",
      "import { tmpdir } from 'node:os';",
      "import { join } from 'node:path';",
      `const { openStore } = await import(${JSON.stringify(new URL('../../src/broker/store/open.ts', import.meta.url).pathname)});`,
      "const dir = await mkdtemp(join(tmpdir(), 'certfleet-store-'));",
      "await (await openStore({ kind: 'dir', dir })).close();",
      'await rm(dir, { recursive: true });',
      "const loaded = Object.keys(createRequire(import.meta.url).cache).filter((m) => m.includes('/node_modules/pg'));",
      "console.log(JSON.stringify(loaded));",
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), []);
  });
});
