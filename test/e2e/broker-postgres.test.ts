/**
 * Two brokers on one PostgreSQL behind an nginx load balancer (TLS at nginx, plain HTTP to the
 * brokers, one publicUrl), as a fleet runs them. One device (acme-client) and certbot end to end
 * through them; then broker A is killed (SIGKILL) while it holds orders it has already placed
 * upstream, and B takes them over once their lease runs out (shortened to 4 s through CERTFLEET_BROKER_LEASE_SECONDS):
 * every device still gets a certificate for its own key, and no upstream order is placed twice
 * for one device order. Needs `npm run build` first (the brokers run as the built certfleet).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../support/process.ts';
import { enroll, runCertbot, startBroker, writeBrokerConf, type RunningBroker } from '../support/broker.ts';
import {
  enrollDevices, keySpki, leafSpki, obtain, orderIdOf, startFleetWorld, trustBrokerCa, upstreamPerDevice, type FleetWorld,
} from '../support/broker-fleet.ts';
import { startLoadBalancer, type LoadBalancer } from '../support/load-balancer.ts';
import { startPostgres, type RunningPostgres } from '../support/postgres.ts';

const LEASE_SECONDS = 4;

let world: FleetWorld;
let postgres: RunningPostgres;
let lb: LoadBalancer;
let dir: string;
let db: pg.Client;
const brokers: { a?: RunningBroker; b?: RunningBroker } = {};
const confs: { a?: string; b?: string } = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certfleet-broker-pg-'));
  world = await startFleetWorld();
  postgres = await startPostgres();
  db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const [portA, portB] = [await freePort(), await freePort()];
  lb = await startLoadBalancer(join(dir, 'lb'), [portA, portB]);
  const accountKey = join(dir, 'account.pem');
  const env = { NODE_EXTRA_CA_CERTS: world.upstreamCaPath, CERTFLEET_BROKER_LEASE_SECONDS: String(LEASE_SECONDS) };
  for (const [name, port] of [['a', portA], ['b', portB]] as const) {
    const own = join(dir, name);
    const b = await writeBrokerConf({
      dir: own, upstream: world.standIn.directoryUrl, bindPort: world.bindPort, tsig: world.tsig, zone: world.zone,
      store: postgres.url, port, tls: false, publicUrl: lb.publicUrl, accountKey,
    });
    confs[name] = b.conf;
    // A first: it creates the upstream account key B then uses.
    brokers[name] = await startBroker({ conf: b.conf, directory: `http://127.0.0.1:${port}/directory`, env, cwd: own, name: `broker-${name}` });
  }
  trustBrokerCa(await readFile(lb.caCertPath, 'utf8'));
});

after(async () => {
  await brokers.a?.kill();
  await brokers.b?.kill();
  await db?.end().catch(() => undefined);
  await lb?.stop();
  await postgres?.stop();
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('one device gets its certificate through two brokers on PostgreSQL', { timeout: 60_000 }, async () => {
  const [device] = await enrollDevices(confs.a!, dir, world.zone, 'solo', 1);
  const chain = await obtain(device!, `${lb.publicUrl}/directory`, Date.now() + 45_000);
  assert.equal(leafSpki(chain), keySpki(device!.certKey), 'the certificate holds the key the device sent');
  const { rows } = await db.query('SELECT status, certificate FROM broker_orders WHERE id = $1', [orderIdOf(device!.orderUrl!)]);
  assert.deepEqual(rows, [{ status: 'valid', certificate: orderIdOf(device!.orderUrl!) }]);
  const stored = await db.query('SELECT chain_pem FROM broker_certificates WHERE id = $1', [orderIdOf(device!.orderUrl!)]);
  assert.equal(stored.rows[0]?.chain_pem.replace(/\s/g, ''), chain.replace(/\s/g, ''), 'the device got the stored chain');
  assert.equal(upstreamPerDevice(world.standIn, [device!]).get(device!.id)!.newOrders, 1);
});

test('certbot gets its certificate through the load balancer in front of both brokers', { timeout: 90_000 }, async () => {
  const name = `certbot.${world.zone}`;
  const eab = await enroll(confs.b!, 'certbot', [name], dir);
  const r = await runCertbot({ directory: `${lb.publicUrl}/directory`, caCertPath: lb.caCertPath, eab, names: [name], dir: join(dir, 'certbot') });
  assert.equal(r.code, 0, r.out.slice(-2000));
  assert.equal(leafSpki(await readFile(r.certPath, 'utf8')), keySpki(await readFile(r.keyPath)), "the certificate holds certbot's key");
  const { rows } = await db.query(`SELECT status FROM broker_orders WHERE device = 'certbot'`);
  assert.deepEqual(rows, [{ status: 'valid' }]);
});

test('broker A killed while it holds orders placed upstream: B takes them over, nothing ordered twice', { timeout: 120_000 }, async (t) => {
  const devices = await enrollDevices(confs.a!, dir, world.zone, 'dev', 8);
  const pidA = brokers.a!.process.child.pid!;
  const deadline = Date.now() + 90_000;
  const results = Promise.allSettled(devices.map((d) => obtain(d, `${lb.publicUrl}/directory`, deadline)));

  // Wait until A holds a lease on an order it has placed upstream, then kill it.
  const heldByA = async () => (await db.query(
    `SELECT id, upstream_order_url FROM broker_orders WHERE status = 'processing' AND lease_owner LIKE $1`, [`%-${pidA}-%`],
  )).rows as { id: string; upstream_order_url: string | null }[];
  let held: { id: string; upstream_order_url: string | null }[] = [];
  const watchUntil = Date.now() + 30_000;
  while (Date.now() < watchUntil) {
    held = await heldByA();
    if (held.some((o) => o.upstream_order_url)) break;
    await sleep(20);
  }
  assert.ok(held.some((o) => o.upstream_order_url), `broker A held no order placed upstream within 30 s\n${brokers.a!.log()}`);
  await brokers.a!.kill();
  const killedAt = Date.now();
  t.diagnostic(`killed A holding ${held.length} orders (${held.filter((o) => o.upstream_order_url).length} placed upstream)`);

  const outcome = await results;
  const failed = outcome.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
  assert.deepEqual(failed, [], `every device got its certificate\n--- B ---\n${brokers.b!.log()}`);
  for (const d of devices) assert.equal(leafSpki(d.chain!), keySpki(d.certKey), `${d.id}: the certificate holds the key it sent`);

  const byOrder = new Map(devices.map((d) => [orderIdOf(d.orderUrl!), d]));
  const takeovers: number[] = [];
  for (const o of held) {
    const d = byOrder.get(o.id);
    assert.ok(d, `order ${o.id} held by A is a device's order`);
    takeovers.push(d.doneAt! - killedAt);
    assert.match(brokers.b!.log(), new RegExp(`order ${o.id} \\(.*certificate issued`), `B finished order ${o.id}`);
  }
  t.diagnostic(`takeover: A's orders valid ${takeovers.sort((x, y) => x - y).join(', ')} ms after the kill (lease ${LEASE_SECONDS} s)`);

  const upstream = upstreamPerDevice(world.standIn, devices);
  const placed = new Set(held.filter((o) => o.upstream_order_url).map((o) => byOrder.get(o.id)!.id));
  for (const d of devices) {
    const u = upstream.get(d.id)!;
    assert.equal(u.certificates, 1, `${d.id}: one certificate upstream`);
    // An order A had placed upstream is resumed by B, never placed again; one A held without a
    // recorded upstream order may have been placed once unrecorded (the kill fell in between).
    if (placed.has(d.id) || !held.some((o) => byOrder.get(o.id) === d)) assert.equal(u.newOrders, 1, `${d.id}: one upstream order`);
    else assert.ok(u.newOrders <= 2, `${d.id}: at most one unrecorded upstream order besides its own`);
  }
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM broker_orders WHERE status <> 'valid' AND id = ANY($1)`, [[...byOrder.keys()]]);
  assert.equal(rows[0].n, 0, 'every device order is valid in the store');
});
