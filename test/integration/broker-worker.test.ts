// The broker's upstream worker with real parts: Pebble (behind the ARI stand-in, which records
// every newOrder) resolving through a real BIND that takes the broker's TSIG-signed updates, and
// the embedded DirStore in a temp dir. Device orders are put straight into the store as
// `processing` with CSRs of their own keys, as the device-facing server leaves them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import acme from 'acme-client';
import { parseBrokerSettings } from '../../src/broker/config.ts';
import type { BrokerSettings } from '../../src/broker/settings.ts';
import { openDirStore } from '../../src/broker/store/dir-store.ts';
import type { BrokerStore } from '../../src/broker/store/store.ts';
import type { BrokerOrder } from '../../src/broker/types.ts';
import { retryAfterSeconds } from '../../src/broker/upstream/failure.ts';
import { startWorker, type Worker } from '../../src/broker/upstream/worker.ts';
import { reporterFor } from '../../src/config/reporter.ts';
import type { Diagnostic } from '../../src/config/diagnostics.ts';
import { parseCertChain, verifyChain } from '../../src/crypto/cert.ts';
import { createCsrPem } from '../../src/crypto/csr.ts';
import { generateKeyPem, spkiSha256 } from '../../src/crypto/keys.ts';
import type { TsigKey } from '../../src/dns/tsig.ts';
import { startAriStandIn, type AriStandIn } from '../support/ari-stand-in.ts';
import { startBind, type RunningBind } from '../support/bind.ts';
import { startTestServers, type TestServers } from '../support/servers.ts';
import { served } from '../unit/dns/providers/contract.ts';

const ZONE = `fleet${randomBytes(4).toString('hex')}.example.com`;
const tsig: TsigKey = { name: 'broker-it.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

let bind: RunningBind;
let servers: TestServers;
let standIn: AriStandIn;
let accountKeyPem: string;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  bind = await startBind({ tsig, zones: [{ name: ZONE }] });
  servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
  standIn = await startAriStandIn(servers);
  acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(servers.caCertPath, 'utf8') });
  accountKeyPem = await generateKeyPem({ kind: 'ec', curve: 'prime256v1' });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await standIn?.stop();
  await servers?.stop();
  await bind?.stop();
});

/** broker.conf as a user writes it, read by the broker's own reader. */
function settings(extra: string[] = []): BrokerSettings {
  const text = [
    '[broker]', 'listen: 127.0.0.1:0', 'publicUrl: https://broker.example.com', 'store: unused', `upstream: ${standIn.directoryUrl}`,
    'accountKey: unused.pem', 'parallel: 20', ...extra, '',
    '[dns:fleet]', `zones: ${ZONE}`, 'provider: rfc2136', `server: 127.0.0.1:${bind.port}`, `tsigKey: ${tsig.name}`, 'tsigAlgorithm: hmac-sha256',
    `tsigSecret: ${tsig.secret}`, `nameservers: 127.0.0.1:${bind.port}`, 'propagationTimeout: 20', '',
  ].join('\n');
  const diagnostics: Diagnostic[] = [];
  const { settings } = parseBrokerSettings(text, '/test/broker.conf', '/test', reporterFor('broker.conf', diagnostics));
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return settings;
}

async function tempStore(): Promise<BrokerStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-broker-store-'));
  const store = await openDirStore(dir);
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

let seq = 0;
/** A finalized device order with a CSR of a fresh key (or of `csrNames` instead of its names). */
async function deviceOrder(names: string[], opts: { csrNames?: string[]; replaces?: string; finalizedAt?: Date } = {}): Promise<{ order: BrokerOrder; key: KeyObject }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const at = opts.finalizedAt ?? new Date();
  const id = `o${++seq}-${randomBytes(3).toString('hex')}`;
  const order: BrokerOrder = {
    id, account: 'acct-1', device: `dev-${seq}`, identifiers: [...names].sort(), status: 'processing',
    createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + 86_400_000).toISOString(),
    csrPem: await createCsrPem(opts.csrNames ?? names, privateKey), finalizedAt: at.toISOString(),
    replaces: opts.replaces ?? null, renewal: opts.replaces !== undefined, notBefore: null, lease: null,
    upstreamOrderUrl: null, attempts: 0, certificate: null, error: null,
  };
  return { order, key: privateKey };
}

function start(store: BrokerStore, s: BrokerSettings, logs: string[], firstBackoffMs = 60_000): Worker {
  const worker = startWorker({
    settings: s, store, owner: `it-${randomBytes(3).toString('hex')}`, accountKeyPem, log: (m) => logs.push(m),
    pollMs: 200, firstBackoffMs, dns: { intervalMs: 300 },
  });
  cleanups.push(() => worker.stop());
  return worker;
}

/** Waits until `done(orders)` holds for the given orders' stored state; fails after `ms` with the log. */
async function until(store: BrokerStore, ids: string[], done: (orders: BrokerOrder[]) => boolean, ms: number, logs: string[]): Promise<BrokerOrder[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const orders = await Promise.all(ids.map(async (id) => (await store.getOrder(id))!));
    if (done(orders)) return orders;
    if (Date.now() > deadline) assert.fail(`orders not done within ${ms} ms: ${orders.map((o) => `${o.id}=${o.status}`).join(' ')}\n${logs.slice(-30).join('\n')}\n${servers.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const approvedUpdates = () => bind.log().split('\n').filter((l) => /signer ".*" approved/.test(l)).length;
const placedUpstream = () => standIn.orders.filter((o) => o.status === 201).length;

test('20 devices in one zone: all valid, each chain for its own key, records written and awaited in a handful of batches', async () => {
  standIn.reset();
  const store = await tempStore();
  const devices = await Promise.all(Array.from({ length: 20 }, (_, i) => deviceOrder([`d${i}.${ZONE}`])));
  for (const d of devices) await store.createOrder(d.order);
  const logs: string[] = [];
  const updatesBefore = approvedUpdates();
  const started = Date.now();
  const worker = start(store, settings(['rateBudget: no']), logs);
  const orders = await until(store, devices.map((d) => d.order.id), (os) => os.every((o) => o.status !== 'processing'), 120_000, logs);
  const seconds = (Date.now() - started) / 1000;
  await worker.stop();
  const stats = worker.stats();

  const root = await servers.rootPem();
  for (const [i, o] of orders.entries()) {
    assert.equal(o.status, 'valid', `${o.id}: ${JSON.stringify(o.error)}`);
    assert.equal(o.lease, null);
    const cert = (await store.getCertificate(o.id))!;
    const facts = parseCertChain(cert.chainPem);
    assert.equal(facts.spkiSha256, spkiSha256(devices[i].key), 'the chain is for the key the device sent');
    assert.deepEqual(cert.names, devices[i].order.identifiers);
    assert.equal(verifyChain(cert.chainPem, root), null);
    assert.equal(cert.certId, facts.certId);
    assert.ok(o.upstreamOrderUrl, 'the upstream order was recorded');
  }
  assert.equal(placedUpstream(), 20);
  assert.equal(stats.upstreamOrders, 20);
  assert.equal(stats.done, 20);
  // Adds and removals, each in a batch or two; the counter matches what BIND saw.
  assert.equal(approvedUpdates() - updatesBefore, stats.dnsUpdateMessages, bind.log().slice(-3000));
  assert.ok(stats.dnsUpdateMessages <= 4, `DNS update messages: ${stats.dnsUpdateMessages}`);
  assert.ok(stats.propagationWaits <= 3, `propagation waits: ${stats.propagationWaits}`);
  for (const d of devices.slice(0, 3)) assert.deepEqual(await served({ host: '127.0.0.1', port: bind.port }, `_acme-challenge.${d.order.identifiers[0]}`), [], 'removed again');
  console.log(`# 20 devices: ${seconds.toFixed(1)} s; ${stats.dnsUpdateMessages} DNS update messages (${(stats.dnsUpdateMessages / 20).toFixed(2)}/cert), ${stats.propagationWaits} propagation waits (${(stats.propagationWaits / 20).toFixed(2)}/cert)`);
});

test('budget of 5 certificates per domain and week: 5 issued, the rest told when to come back; a renewal queued after them is served first', async () => {
  standIn.reset();
  const store = await tempStore();
  const t0 = Date.now() - 60_000;
  const fresh = await Promise.all(Array.from({ length: 8 }, (_, i) => deviceOrder([`b${i}.${ZONE}`], { finalizedAt: new Date(t0 + i * 1000) })));
  for (const d of fresh) await store.createOrder(d.order);
  const logs: string[] = [];
  const s = settings(['certsPerDomainPerWeek: 5']);
  const worker = start(store, s, logs);
  const ids = fresh.map((d) => d.order.id);
  const orders = await until(store, ids, (os) => os.filter((o) => o.status === 'valid').length === 5 && os.filter((o) => o.notBefore !== null).length === 3, 90_000, logs);
  const now = new Date();
  const waiting = orders.filter((o) => o.status === 'processing');
  assert.deepEqual(orders.filter((o) => o.status === 'valid').map((o) => o.id), ids.slice(0, 5), 'the oldest five');
  assert.equal(waiting.length, 3);
  for (const o of waiting) {
    assert.ok(Date.parse(o.notBefore!) > now.getTime() + 6 * 86_400_000, `${o.id} waits for its slot a week on: ${o.notBefore}`);
    assert.ok(retryAfterSeconds(o, now) > 6 * 86_400, 'devices are told when to come back');
  }
  assert.equal(placedUpstream(), 5, 'no order past the budget reached the CA');
  assert.equal((await store.ledgerSince(new Date(t0 - 1000))).length, 5);

  // A renewal of the first certificate, queued after the waiting three: it is exempt and goes first.
  const first = (await store.getCertificate(ids[0]))!;
  const renewal = await deviceOrder(fresh[0].order.identifiers, { replaces: first.certId });
  await store.createOrder(renewal.order);
  worker.wake();
  const [renewed] = await until(store, [renewal.order.id], (os) => os[0].status !== 'processing', 60_000, logs);
  assert.equal(renewed.status, 'valid', JSON.stringify(renewed.error));
  assert.equal(placedUpstream(), 6);
  assert.equal(standIn.orders.filter((o) => o.status === 201).at(-1)!.replaces, first.certId, 'the upstream order names what it replaces');
  for (const o of await Promise.all(waiting.map(async (w) => (await store.getOrder(w.id))!))) assert.equal(o.status, 'processing', 'the new devices still wait');
  await worker.stop();
  assert.equal(worker.stats().deferred, 3);
});

test('resume: an upstream order recorded by an earlier worker is completed without a second upstream order', async () => {
  standIn.reset();
  const store = await tempStore();
  const device = await deviceOrder([`r1.${ZONE}`]);
  // What a worker that stopped right after newOrder leaves: the order URL, upstream still pending.
  const client = new acme.Client({ directoryUrl: standIn.directoryUrl, accountKey: accountKeyPem });
  // newAccount finds the broker's account (acme-client's createAccount would then send an empty update).
  await (client as unknown as { api: { createAccount(d: object): Promise<unknown> } }).api.createAccount({ termsOfServiceAgreed: true });
  const upstream = await client.createOrder({ identifiers: [{ type: 'dns', value: device.order.identifiers[0] }] });
  await store.createOrder({ ...device.order, upstreamOrderUrl: upstream.url, attempts: 1 });
  assert.equal(placedUpstream(), 1);

  const logs: string[] = [];
  const worker = start(store, settings(), logs);
  const [o] = await until(store, [device.order.id], (os) => os[0].status !== 'processing', 60_000, logs);
  await worker.stop();
  assert.equal(o.status, 'valid', JSON.stringify(o.error));
  assert.equal(o.upstreamOrderUrl, upstream.url);
  assert.equal(placedUpstream(), 1, 'no second upstream order');
  assert.equal(worker.stats().upstreamOrders, 0);
  assert.equal((await store.ledgerSince(new Date(0))).length, 0, 'counted when it was placed, not again');
  assert.equal(parseCertChain((await store.getCertificate(o.id))!.chainPem).spkiSha256, spkiSha256(device.key));
});

test('permanent failures make only their own order invalid, with a problem the device can read', async () => {
  standIn.reset();
  const store = await tempStore();
  const good = await deviceOrder([`g1.${ZONE}`]);
  const outside = await deviceOrder([`x1.outside${randomBytes(3).toString('hex')}.example.net`]);
  const mismatched = await deviceOrder([`m1.${ZONE}`], { csrNames: [`m2.${ZONE}`] });
  for (const d of [good, outside, mismatched]) await store.createOrder(d.order);
  const logs: string[] = [];
  // Pebble refuses the mismatched CSR as `unauthorized`, which is final on the third attempt: short back-offs here.
  const worker = start(store, settings(['rateBudget: no']), logs, 300);
  const [g, x, m] = await until(store, [good, outside, mismatched].map((d) => d.order.id), (os) => os.every((o) => o.status !== 'processing'), 60_000, logs);
  await worker.stop();
  assert.equal(g.status, 'valid', JSON.stringify(g.error));
  assert.equal(x.status, 'invalid');
  assert.equal(x.error?.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
  assert.match(x.error!.detail, /outside its \[dns:\*\] zones: x1\.outside/);
  assert.equal(m.status, 'invalid');
  assert.equal(m.error!.type, 'urn:ietf:params:acme:error:unauthorized', JSON.stringify(m.error));
  assert.match(m.error!.detail, /CSR is missing Order domain/);
  assert.equal(m.attempts, 3);
  assert.equal(placedUpstream(), 2, 'the name outside every zone never reached the CA; the retries resumed their upstream order');
  assert.equal(worker.stats().failed, 2);
});

test('a worker that loses its lease writes nothing more: the order stays for the new holder', async () => {
  standIn.reset();
  const store = await tempStore();
  const device = await deviceOrder([`l1.${ZONE}`]);
  await store.createOrder(device.order);
  const winner = { owner: 'winner', until: new Date(Date.now() + 600_000).toISOString() };
  // Another broker takes the order over right after the upstream order is recorded (the store
  // itself is real; this only times the takeover).
  const racing = new Proxy(store, {
    get(target, prop) {
      if (prop === 'updateOrder') {
        return async (...args: Parameters<BrokerStore['updateOrder']>) => {
          const result = await target.updateOrder(...args);
          if (args[2].upstreamOrderUrl) await target.updateOrder(args[0], {}, { lease: winner });
          return result;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const logs: string[] = [];
  const worker = startWorker({
    settings: settings(['rateBudget: no']), store: racing, owner: 'loser', accountKeyPem, log: (m) => logs.push(m), pollMs: 200, dns: { intervalMs: 300 },
  });
  cleanups.push(() => worker.stop());
  await until(store, [device.order.id], (os) => os[0].lease?.owner === 'winner', 30_000, logs);
  for (let i = 0; i < 100 && worker.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await worker.stop();
  const o = (await store.getOrder(device.order.id))!;
  assert.equal(o.status, 'processing');
  assert.deepEqual(o.lease, winner);
  assert.equal(await store.getCertificate(o.id), null, 'no certificate stored by the loser');
  assert.match(logs.join('\n'), /lease lost/);
  assert.equal(worker.stats().done, 0);
});
