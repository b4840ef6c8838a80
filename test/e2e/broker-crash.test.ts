/**
 * The broker killed (SIGKILL) at random moments while 30 devices order certificates at once,
 * and restarted on the same store each time (a directory; then PostgreSQL, with a 3 s lease so
 * the restarted broker soon takes over the killed one's orders); the devices keep retrying while
 * it is down. Afterwards every device order is `valid`, none was lost, none was issued twice
 * upstream, every certificate holds the key its device sent, and the store opens cleanly. The
 * kill schedule is seeded: the seed is printed, and CRASH_SEED=<seed> replays the schedule (not
 * the exact interleaving). Needs `npm run build` first (the broker runs as the built certfleet).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDirStore } from '../../src/broker/store/dir-store.ts';
import { openPgStore } from '../../src/broker/store/pg-store.ts';
import type { BrokerStore } from '../../src/broker/store/store.ts';
import { startBroker, writeBrokerConf, type RunningBroker } from '../support/broker.ts';
import {
  enrollDevices, keySpki, leafSpki, obtain, orderIdOf, seededRandom, startFleetWorld, trustBrokerCa, upstreamPerDevice,
} from '../support/broker-fleet.ts';
import { startPostgres } from '../support/postgres.ts';

const DEVICES = 30;

/** Where the broker keeps its records: `store:` of broker.conf, how to open it afterwards, and its own after-crash checks. */
interface StoreUnderTest {
  value(dir: string): string;
  open(value: string): Promise<BrokerStore>;
  /** Checks of the stored form before the store opens it (no torn record files). */
  whole(value: string): Promise<void>;
  /** Environment of the broker (a short lease: a restarted broker waits out the killed one's leases). */
  env: Record<string, string>;
  /** The ledger's entry count. */
  ledger(value: string): Promise<number>;
}

const dirStore: StoreUnderTest = {
  value: (dir) => join(dir, 'store'),
  open: (value) => openDirStore(value),
  async whole(store) {
    // Every file the broker wrote parses, before the store (which sweeps temp files) opens it.
    for (const kind of ['orders', 'certs', 'accounts', 'devices']) {
      for (const name of await readdir(join(store, kind))) {
        if (!name.endsWith('.json')) continue;
        const text = await readFile(join(store, kind, name), 'utf8');
        assert.doesNotThrow(() => JSON.parse(text), `${kind}/${name} is a whole record`);
      }
    }
  },
  env: {},
  ledger: async (store) => (await readFile(join(store, 'ledger.jsonl'), 'utf8')).split('\n').filter(Boolean).length,
};

test('a broker killed at random moments under load loses no order and issues none twice (store: DIR)', { timeout: 150_000 }, (t) => crashUnderLoad(t, dirStore));

test('a broker killed at random moments under load loses no order and issues none twice (store: postgres://)', { timeout: 150_000 }, async (t) => {
  const postgres = await startPostgres();
  try {
    await crashUnderLoad(t, {
      value: () => postgres.url,
      open: (url) => openPgStore(url),
      whole: async () => undefined,
      env: { CERTFLEET_BROKER_LEASE_SECONDS: '3' },
      async ledger(url) {
        const store = await openPgStore(url);
        try {
          return (await store.ledgerSince(new Date(0))).length;
        } finally {
          await store.close();
        }
      },
    });
  } finally {
    await postgres.stop();
  }
});

async function crashUnderLoad(t: TestContext, kind: StoreUnderTest): Promise<void> {
  const seed = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : randomInt(2 ** 31);
  const random = seededRandom(seed);
  t.diagnostic(`kill schedule seed ${seed} (replay with CRASH_SEED=${seed})`);
  const world = await startFleetWorld();
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-broker-crash-'));
  let broker: RunningBroker | null = null;
  const logs: string[] = [];
  try {
    const store = kind.value(dir);
    // Every device is under one registered domain: Let's Encrypt's 50 a week would defer some
    // (kills overcount the ledger), and the budget is not what this test is about.
    const b = await writeBrokerConf({
      dir, upstream: world.standIn.directoryUrl, bindPort: world.bindPort, tsig: world.tsig, zone: world.zone, store,
      extra: ['certsPerDomainPerWeek: 100000'],
    });
    const start = async () => {
      const started = await startBroker({ conf: b.conf, directory: b.directory, env: { NODE_EXTRA_CA_CERTS: world.upstreamCaPath, ...kind.env }, cwd: dir });
      logs.push(`--- broker started (pid ${started.process.child.pid}) ---`);
      // Everything but the per-request lines, for a failure's log file.
      started.process.child.stderr?.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter((l) => l && !/^broker: (GET|POST|HEAD) /.test(l))));
      return started;
    };
    const devices = await enrollDevices(b.conf, dir, world.zone, 'dev', DEVICES);
    trustBrokerCa(await readFile(b.caCertPath!, 'utf8'));
    broker = await start();

    const t0 = Date.now();
    const deadline = t0 + 90_000;
    // Devices start 400 ms apart, so new orders keep arriving for 12 s: longer than the first 3
    // kills below can take (at most 3 × 2.8 s plus restarts), so they land while devices are still
    // ordering, however fast the machine.
    const results = Promise.allSettled(devices.map((d, i) => sleep(i * 400).then(() => obtain(d, b.directory, deadline))));
    let settled = false;
    void results.then(() => (settled = true));

    // 3–5 kills, each after a random 0.2–1.8 s of work, down for a random 0–1 s.
    const kills = 3 + Math.floor(random() * 3);
    const schedule: string[] = [];
    let killed = 0;
    /**
     * Per kill, the moment its restart began: an upstream request the killed broker sent just
     * before SIGKILL may reach the stand-in a little after the kill, but never after the next
     * broker process was even started.
     */
    const restarts: number[] = [];
    for (let k = 0; k < kills && !settled; k++) {
      const work = Math.round(200 + random() * 1600);
      const down = Math.round(random() * 1000);
      await sleep(work);
      if (settled) break;
      const done = devices.filter((d) => d.doneAt).length;
      await broker.kill();
      killed++;
      logs.push(`--- SIGKILL ${killed} ---`);
      schedule.push(`kill ${killed} at ${Date.now() - t0} ms (${done}/${DEVICES} devices done), down ${down} ms`);
      await sleep(down);
      restarts.push(Date.now());
      broker = await start();
    }
    t.diagnostic(schedule.join('; '));
    const outcome = await results;
    const elapsed = Date.now() - t0;
    const failed = outcome.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    const context = () => {
      const file = join(tmpdir(), `certfleet-broker-crash-${seed}.log`);
      writeFileSync(file, `${logs.join('\n')}\n`);
      return `seed ${seed}; ${schedule.join('; ')}; the brokers' logs: ${file}`;
    };
    if (failed.length) assert.fail(`every device got its certificate, not:\n${failed.join('\n')}\n${context()}`);
    if (killed < 3) assert.fail(`the broker was killed at least 3 times while devices worked, not ${killed}; ${context()}`);
    t.diagnostic(`${DEVICES} devices done in ${elapsed} ms through ${killed} kills; device-side failed requests: ${devices.reduce((n, d) => n + d.failures, 0)}`);

    for (const d of devices) assert.equal(leafSpki(d.chain!), keySpki(d.certKey), `${d.id}: the certificate holds the key the device sent`);

    await broker.stop();
    broker = null;
    await kind.whole(store);
    const opened = await kind.open(store);
    try {
      const orders = await opened.listOrders({});
      const byId = new Map(orders.map((o) => [o.id, o]));
      for (const d of devices) {
        const o = byId.get(orderIdOf(d.orderUrl!));
        assert.ok(o, `${d.id}: its order is in the store`);
        assert.equal(o.status, 'valid', `${d.id}: its order is valid`);
        const cert = await opened.getCertificate(o.id);
        assert.ok(cert, `${d.id}: its certificate is in the store`);
        assert.equal(leafSpki(cert.chainPem), keySpki(d.certKey), `${d.id}: the stored certificate holds the device's key`);
      }
      // An order the broker created but whose answer a kill cut off is a `ready` order no device holds: never worked on.
      const held = new Set(devices.map((d) => orderIdOf(d.orderUrl!)));
      const orphans = orders.filter((o) => !held.has(o.id));
      for (const o of orphans) assert.equal(o.status, 'ready', `order ${o.id} that no device holds was never worked on`);
      t.diagnostic(`store orders ${orders.length} = device orders ${held.size} + ${orphans.length} created but unanswered (ready, never finalized)`);
    } finally {
      await opened.close();
    }

    const upstream = upstreamPerDevice(world.standIn, devices);
    const newOrders = [...upstream.values()].reduce((n, u) => n + u.newOrders, 0);
    const twice = devices.filter((d) => upstream.get(d.id)!.certificates !== 1).map((d) => `${d.id}: ${upstream.get(d.id)!.certificates}`);
    if (twice.length) assert.fail(`every device order got exactly one certificate upstream, not ${twice.join(', ')}; ${context()}`);
    // An upstream order the CA created whose URL a kill kept from the store is abandoned (never
    // finalized: one certificate per device, above) and placed again after the restart. With
    // `parallel` orders in flight, one kill may abandon several, so the bound is not "one per
    // kill" but: between an abandoned order and the device's next one lies a kill (a restart).
    // One placed again by the same broker process is work done twice.
    const abandoned: { device: string; before: number }[] = [];
    for (const d of devices) {
      const times = world.standIn.orders.filter((o) => o.status === 201 && o.identifiers.some((i) => i.value === d.names[0])).map((o) => o.at.getTime()).sort((x, y) => x - y);
      times.forEach((at, i) => {
        if (i === times.length - 1) return;
        const restart = restarts.find((r) => r >= at && r <= times[i + 1]!);
        abandoned.push({ device: d.id, before: restart === undefined ? Infinity : restart - at });
      });
    }
    const ledger = await kind.ledger(store);
    t.diagnostic(`upstream newOrders ${newOrders} for ${DEVICES} device orders and ${killed} kills: ${abandoned.length} abandoned, placed ${abandoned.map((a) => a.before).join(', ')} ms before a restart; ledger entries ${ledger}`);
    const twiceWithoutKill = abandoned.filter((a) => a.before === Infinity);
    if (twiceWithoutKill.length) assert.fail(`upstream orders placed again by the same broker process (no restart in between): ${twiceWithoutKill.map((a) => a.device).join(', ')}; ${context()}`);
  } finally {
    await broker?.kill();
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
