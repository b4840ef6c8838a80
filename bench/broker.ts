// The fleet broker under a rollout (issue 9, "Speed"): N simulated devices (default 2,000), each
// with its own account key, EAB enrollment, certificate key and CSR, get a certificate through
// `certfleet broker serve` (the built bin/certfleet as a child process) from Pebble
// (PEBBLE_VA_NOSLEEP, otherwise its defaults) proving names over DNS-01 into BIND. First one broker
// on the embedded store (`dir`), then two brokers on PostgreSQL behind nginx (`pg`).
//
// Enrollment writes the record `broker enroll` writes straight into the store (admin mode), timed
// apart from the devices' clock; keys and CSRs are made before it. A device's clock runs from its
// first request to its downloaded chain; it polls as the broker's Retry-After says.
// The rate budget is on with an override (1,000,000 orders and certificates), so its bookkeeping
// is measured while no device waits for it.
//
// Reports devices per second, p50/p99 time to certificate and its parts, DNS UPDATE messages and
// propagation waits per certificate, the brokers' peak RSS and the CPU seconds of every process
// (and of the rest of the machine: other work shares the cores). Everything runs on 127.0.0.1 in
// temporary directories, removed at the end.
//
// Usage: npm run build && npm run bench:broker [-- --devices 2000] [--parallel 200]
//   [--only dir|pg] [--upstream N] [--cpu-prof DIR]
// --upstream: the brokers' `parallel` (default theirs: 20); --cpu-prof: the brokers write V8 CPU
// profiles into DIR (node --cpu-prof), for Chrome DevTools or a script.
// Exits 1 when a device got no certificate, or one for another key than its CSR's.
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { enrolledDevice } from '../src/broker/enroll.ts';
import { openStore } from '../src/broker/store/open.ts';
import type { StoreLocation } from '../src/broker/settings.ts';
import { startBind } from '../test/support/bind.ts';
import { writeBrokerConf } from '../test/support/broker.ts';
import { bundleBin, writeAccountKey } from '../test/support/certfleet.ts';
import { startProcess, waitReady, type ServerProcess } from '../test/support/process.ts';
import { startLoadBalancer } from '../test/support/load-balancer.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { freePort, startTestServers } from '../test/support/servers.ts';
import { makeDeviceKit, runDevice, type DeviceKit, type DeviceRun } from './broker-device.ts';
import { findPid, loadAverage, machineBusySeconds, peakRssMiB, treeCpuSeconds } from './broker-procs.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '200' },
    only: { type: 'string' },
    upstream: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const whole = (name: 'devices' | 'parallel' | 'upstream', max: number): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`bench:broker: --${name} must be a whole number from 1 to ${max}, got "${args[name]}"`);
    process.exit(2);
  }
  return n;
};
const DEVICES = whole('devices', 100_000);
const PARALLEL = whole('parallel', 10_000);
const UPSTREAM = args.upstream === undefined ? null : whole('upstream', 1000);
if (args.only !== undefined && args.only !== 'dir' && args.only !== 'pg') {
  console.error(`bench:broker: --only takes dir or pg, got "${args.only}"`);
  process.exit(2);
}
/** Node flags of the brokers (Node 20 refuses --cpu-prof in NODE_OPTIONS, so they go on the command line). */
const NODE_FLAGS = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args['cpu-prof'])}`] : [];
const MODES = (args.only ? [args.only] : ['dir', 'pg']) as ('dir' | 'pg')[];
const DEVICE_TIMEOUT_MS = 30 * 60_000;

const zone = `fleet${randomBytes(3).toString('hex')}.example.com`;
const tsig = { name: 'fleet-key.', algorithm: 'hmac-sha256' as const, secret: randomBytes(32).toString('base64') };

/** A process to account CPU for, found once it runs. */
interface Tracked {
  name: string;
  pid: number;
}

interface StartedFleet {
  directoryUrl: string;
  ca: string;
  store: StoreLocation;
  brokers: RunningBroker[];
  tracked: Tracked[];
  stop(): Promise<void>;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}
const sec = (ms: number) => (ms / 1000).toFixed(2);

/** The stats JSON a broker logs at stop (`broker: stats {…}`), the last one in its log. */
function lastStats(log: string): Record<string, number> {
  const lines = log.split('\n').filter((l) => l.startsWith('broker: stats {'));
  return lines.length ? (JSON.parse(lines[lines.length - 1].slice('broker: stats '.length)) as Record<string, number>) : {};
}

async function enrollAll(store: StoreLocation, kits: DeviceKit[]): Promise<number> {
  const t = performance.now();
  const s = await openStore(store, { admin: true });
  try {
    for (let i = 0; i < kits.length; i += 50) {
      await Promise.all(kits.slice(i, i + 50).map(async (kit) => {
        const device = enrolledDevice(kit.id, [kit.name], new Date());
        await s.putDevice(device);
        kit.eab = { kid: device.eabKid, hmacKey: device.eabHmacKey };
      }));
    }
  } finally {
    await s.close();
  }
  return performance.now() - t;
}

async function main(): Promise<void> {
  const bind = await startBind({ tsig, zones: [{ name: zone }] });
  const servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
  const base = await mkdtemp(join(tmpdir(), 'bench-broker-'));
  const results: Record<string, Summary> = {};
  try {
    const pebble = findPid((argv) => argv.some((a) => a.startsWith(servers.dir)) && argv.some((a) => a.endsWith('pebble-config.json')));
    const named = findPid((argv) => argv.some((a) => a.startsWith(bind.dir)));
    const common = [{ name: 'pebble', pid: pebble }, { name: 'bind', pid: named }];
    const extra = [
      'ordersPer3Hours: 1000000',
      'certsPerDomainPerWeek: 1000000',
      ...(UPSTREAM ? [`parallel: ${UPSTREAM}`] : []),
    ];
    for (const mode of MODES) {
      const dir = join(base, mode);
      await mkdir(dir);
      console.log(`\n== ${mode}: ${DEVICES} devices, ${PARALLEL} at once, upstream parallel ${UPSTREAM ?? 'default (20)'}; load ${loadAverage()} on ${availableParallelism()} cores`);
      let t = performance.now();
      const kits = await Promise.all(Array.from({ length: DEVICES }, (_, i) => makeDeviceKit(`dev${i}`, `d${i}.${mode}.${zone}`)));
      const keygenMs = performance.now() - t;
      const fleet = mode === 'dir' ? await startDir(dir, servers.caCertPath, servers.directoryUrl, bind.port, extra) : await startPg(dir, servers.caCertPath, servers.directoryUrl, bind.port, extra);
      try {
        const enrollMs = await enrollAll(fleet.store, kits);
        console.log(`keys and CSRs: ${sec(keygenMs)} s; enrollment (store, admin mode): ${sec(enrollMs)} s`);
        const tracked = [...common, ...fleet.tracked];
        const cpu0 = tracked.map((p) => treeCpuSeconds(p.pid));
        const busy0 = machineBusySeconds();
        const self0 = process.cpuUsage();
        const load0 = loadAverage();
        const start = performance.now();
        const runs: DeviceRun[] = [];
        let next = 0;
        let lastReport = start;
        await Promise.all(Array.from({ length: Math.min(PARALLEL, kits.length) }, async () => {
          while (next < kits.length) {
            const kit = kits[next++];
            runs.push(await runDevice(kit, fleet.directoryUrl, fleet.ca, DEVICE_TIMEOUT_MS));
            if (performance.now() - lastReport > 15_000) {
              lastReport = performance.now();
              console.log(`  ${runs.length}/${kits.length} devices done after ${sec(lastReport - start)} s (load ${loadAverage()})`);
            }
          }
        }));
        const wallMs = performance.now() - start;
        const self = process.cpuUsage(self0);
        const cpu = tracked.map((p, i) => ({ name: p.name, seconds: treeCpuSeconds(p.pid) - cpu0[i] }));
        const busy = machineBusySeconds() - busy0;
        const rss = fleet.brokers.map((b) => peakRssMiB(b.process.child.pid!));
        const load1 = loadAverage();
        await Promise.all(fleet.brokers.map((b) => b.stop()));
        const stats = fleet.brokers.map((b) => lastStats(b.log()));
        results[mode] = await report(mode, runs, kits, fleet.store, { wallMs, keygenMs, cpu, selfSeconds: (self.user + self.system) / 1e6, busy, rss, stats, load: [load0, load1] });
      } finally {
        await fleet.stop();
      }
    }
  } finally {
    await servers.stop();
    await bind.stop();
    await rm(base, { recursive: true, force: true });
  }
  console.log(`\n${JSON.stringify(results)}`);
  if (Object.values(results).some((r) => r.failed + r.wrongKey > 0)) process.exitCode = 1;
}

interface RunningBroker {
  process: ServerProcess;
  log(): string;
  stop(): Promise<void>;
}

/** `node [flags] bin/certfleet broker serve --config conf`, ready once it says it listens. */
async function startBroker(opts: { conf: string; env: Record<string, string>; cwd: string; name?: string }): Promise<RunningBroker> {
  const env = { ...process.env, ...opts.env };
  const proc = startProcess(opts.name ?? 'broker', process.execPath, [...NODE_FLAGS, bundleBin, 'broker', 'serve', '--config', opts.conf], env, opts.cwd);
  await waitReady(proc, 'the broker', Date.now() + 30_000, async () => /listening on/.test(proc.tail()));
  return { process: proc, log: () => proc.tail(), stop: () => proc.stop(30_000) };
}

async function startDir(dir: string, pebbleCa: string, upstream: string, bindPort: number, extra: string[]): Promise<StartedFleet> {
  const b = await writeBrokerConf({ dir, upstream, bindPort, tsig, zone, extra });
  const broker = await startBroker({ conf: b.conf, env: { NODE_EXTRA_CA_CERTS: pebbleCa }, cwd: dir });
  const store: StoreLocation = { kind: 'dir', dir: join(dir, 'store') };
  return {
    directoryUrl: b.directory, ca: await readFile(b.caCertPath!, 'utf8'), store, brokers: [broker],
    tracked: [{ name: 'broker', pid: broker.process.child.pid! }],
    stop: () => broker.stop(),
  };
}

async function startPg(dir: string, pebbleCa: string, upstream: string, bindPort: number, extra: string[]): Promise<StartedFleet> {
  const pg = await startPostgres();
  const stops: (() => Promise<void>)[] = [() => pg.stop()];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const port = Number(new URL(pg.url).port);
    const postmaster = findPid((argv) => argv.some((a) => a.endsWith('/postgres')) && argv.includes(String(port)));
    const ports = [await freePort(), await freePort()];
    const lb = await startLoadBalancer(join(dir, 'lb'), ports);
    stops.push(() => lb.stop());
    const brokers: RunningBroker[] = [];
    for (const [i, p] of ports.entries()) {
      const own = join(dir, `broker${i + 1}`);
      await mkdir(own, { recursive: true });
      // One upstream account for the fleet: both brokers sign with the same key.
      if (i === 0) await writeAccountKey(join(own, 'account.pem'));
      else await copyFile(join(dir, 'broker1', 'account.pem'), join(own, 'account.pem'));
      const b = await writeBrokerConf({ dir: own, upstream, bindPort, tsig, zone, store: pg.url, port: p, tls: false, publicUrl: lb.publicUrl, extra });
      // Started one after the other: the first creates the schema.
      const broker = await startBroker({ conf: b.conf, env: { NODE_EXTRA_CA_CERTS: pebbleCa }, cwd: own, name: `broker${i + 1}` });
      brokers.push(broker);
      stops.push(() => broker.stop());
    }
      return {
      directoryUrl: `${lb.publicUrl}/directory`, ca: await readFile(lb.caCertPath, 'utf8'), store: { kind: 'postgres', url: pg.url }, brokers,
      tracked: [
        ...brokers.map((b, i) => ({ name: `broker${i + 1}`, pid: b.process.child.pid! })),
        { name: 'postgres', pid: postmaster },
        { name: 'nginx-lb', pid: lb.process.child.pid! },
      ],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface Measured {
  wallMs: number;
  keygenMs: number;
  cpu: { name: string; seconds: number }[];
  selfSeconds: number;
  busy: number;
  rss: (number | null)[];
  stats: Record<string, number>[];
  load: [number, number];
}

/** One mode's figures as printed in the closing JSON line. */
type Summary = { failed: number; wrongKey: number } & Record<string, unknown>;

async function report(mode: string, runs: DeviceRun[], kits: DeviceKit[], location: StoreLocation, m: Measured): Promise<Summary> {
  const ok = runs.filter((r) => r.ok);
  const failed = runs.filter((r) => !r.ok);
  // The chain's leaf must hold the key of the device's own CSR.
  const byId = new Map(kits.map((k) => [k.id, k]));
  const wrongKey = ok.filter((r) => {
    const leaf = new X509Certificate(r.chainPem.split(/(?<=-----END CERTIFICATE-----)/)[0]);
    return !leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(byId.get(r.id)!.spki);
  }).length;
  // When the broker stored each certificate (its clock, in ms since the epoch) splits a device's wait.
  const store = await openStore(location, { admin: true });
  const issuedAt = new Map<string, number>();
  try {
    for (const c of await store.listCertificates()) issuedAt.set(c.device, Date.parse(c.issuedAt));
  } finally {
    await store.close();
  }
  const epoch = (t: number) => performance.timeOrigin + t;
  const sorted = (f: (r: DeviceRun) => number) => ok.map(f).sort((a, b) => a - b);
  const total = sorted((r) => r.done - r.start);
  const front = sorted((r) => r.finalized - r.start);
  const broker = sorted((r) => (issuedAt.get(r.id) ?? NaN) - epoch(r.finalized));
  const slack = sorted((r) => epoch(r.done) - (issuedAt.get(r.id) ?? NaN));
  const sum = (k: string) => m.stats.reduce((s, x) => s + (x[k] ?? 0), 0);
  const certs = Math.max(1, issuedAt.size);
  const ours = m.cpu.reduce((s, c) => s + c.seconds, 0) + m.selfSeconds;
  const wall = m.wallMs / 1000;
  const row = (label: string, value: string) => console.log(`  ${label.padEnd(44)} ${value}`);
  row('devices with a certificate', `${ok.length} of ${runs.length}${failed.length ? ` (failed: ${failed.slice(0, 3).map((r) => (r.error ?? '').replace(/\s+/g, ' ').slice(0, 200)).join(' | ')})` : ''}`);
  row('certificates for another key', String(wrongKey));
  row('wall time', `${sec(m.wallMs)} s`);
  row('devices per second', (ok.length / wall).toFixed(1));
  row('time to certificate p50 / p99 / max', `${sec(percentile(total, 50))} / ${sec(percentile(total, 99))} / ${sec(total[total.length - 1])} s`);
  row('  first request → finalize answered p50 / p99', `${sec(percentile(front, 50))} / ${sec(percentile(front, 99))} s`);
  row('  finalize → broker stored cert p50 / p99', `${sec(percentile(broker, 50))} / ${sec(percentile(broker, 99))} s`);
  row('  stored → device downloaded p50 / p99', `${sec(percentile(slack, 50))} / ${sec(percentile(slack, 99))} s (Retry-After polling)`);
  const per = (f: (r: DeviceRun) => number, digits: number) => (runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length)).toFixed(digits);
  row('requests / polls / badNonce / resent per device', `${per((r) => r.requests, 1)} / ${per((r) => r.polls, 1)} / ${per((r) => r.badNonces, 2)} / ${per((r) => r.retries, 2)}`);
  row('upstream orders (retried, failed)', `${sum('upstreamOrders')} (${sum('retried')}, ${sum('failed')})`);
  row('certificates the broker stored', String(issuedAt.size));
  row('DNS UPDATE messages per certificate', `${(sum('dnsUpdateMessages') / certs).toFixed(3)} (${sum('dnsUpdateMessages')} in all)`);
  row('propagation waits per certificate', `${(sum('propagationWaits') / certs).toFixed(3)} (${sum('propagationWaits')} in all)`);
  if (m.stats.some((s) => 'propagationWaitMs' in s)) row('time in propagation waits (sum of batches)', `${sec(sum('propagationWaitMs'))} s`);
  row('broker peak RSS (VmHWM)', m.rss.map((r) => `${r} MiB`).join(', '));
  row('CPU seconds during the run', [...m.cpu.map((c) => `${c.name} ${c.seconds.toFixed(1)}`), `devices (bench) ${m.selfSeconds.toFixed(1)}`].join(', '));
  row('machine: busy / capacity, others', `${m.busy.toFixed(1)} of ${(wall * availableParallelism()).toFixed(1)} CPU s; not ours ${Math.max(0, m.busy - ours).toFixed(1)} s; load ${m.load[0]} → ${m.load[1]}`);
  return {
    mode, devices: runs.length, ok: ok.length, failed: failed.length, wrongKey, wallSeconds: +wall.toFixed(2),
    devicesPerSecond: +(ok.length / wall).toFixed(2),
    timeToCertificateMs: { p50: Math.round(percentile(total, 50)), p99: Math.round(percentile(total, 99)) },
    parts: { frontP50: Math.round(percentile(front, 50)), brokerP50: Math.round(percentile(broker, 50)), brokerP99: Math.round(percentile(broker, 99)), pollSlackP50: Math.round(percentile(slack, 50)) },
    dnsUpdateMessagesPerCert: +(sum('dnsUpdateMessages') / certs).toFixed(3),
    propagationWaitsPerCert: +(sum('propagationWaits') / certs).toFixed(3),
    upstreamOrders: sum('upstreamOrders'), brokerPeakRssMiB: m.rss,
    cpuSeconds: Object.fromEntries([...m.cpu.map((c) => [c.name, +c.seconds.toFixed(1)]), ['devices', +m.selfSeconds.toFixed(1)], ['notOurs', +Math.max(0, m.busy - ours).toFixed(1)]]),
    load: m.load, parallel: PARALLEL, upstreamParallel: UPSTREAM ?? 20,
  };
}

await main();
