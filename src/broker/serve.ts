/**
 * `certfleet broker serve`: the device-facing ACME server and the upstream worker over one
 * store, until SIGTERM, SIGHUP or SIGINT. Order of things: config (checked by the caller), the
 * account key, the store (the directory's lock, or PostgreSQL), the worker, then the listeners;
 * on stop the listeners close first, then the worker finishes what it holds, then the store.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fetchDirectory } from '../acme/renewal-info.ts';
import { ConfigError } from '../config/diagnostics.ts';
import { serveUntilStopped } from '../server/serve.ts';
import { readOrCreateAccountKey } from './account-key.ts';
import { createAddressWriter } from './addresses.ts';
import { createDeviceAcmeHandler } from './acme-server/handler.ts';
import type { BrokerSettings } from './settings.ts';
import { openStore } from './store/open.ts';
import { createRenewalInfo } from './upstream/renewal-info.ts';
import { retryAfterSeconds } from './upstream/failure.ts';
import { startWorker, type WorkerStats } from './upstream/worker.ts';

/**
 * The device-facing server's bounds where a broker differs from a challenge responder (whose
 * answers are instant): a request may take seconds when the store is busy, and Node's idle timer
 * would destroy its socket mid-request (behind nginx: a 502), so the idle bound is 30 s; and a
 * device polling as Retry-After says (3 s while the broker works) finds its connection still open
 * (one TLS handshake per device, not one per poll). Headers still have 5 s, and the connection
 * pool still sheds the oldest idle connection when full.
 */
export const BROKER_SERVER_LIMITS = { idleTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 } as const;

export interface ServeBrokerOptions {
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
  now?: () => Date;
}

/** Serves until stopped; 0 after a clean stop, 1 when a listener could not be bound. Throws for an unusable store or key. */
export async function serveBroker(settings: BrokerSettings, opts: ServeBrokerOptions): Promise<number> {
  const now = opts.now ?? (() => new Date());
  const log = (line: string) => {
    try {
      opts.stderr.write(`broker: ${line}\n`);
    } catch {
      // logging is best effort
    }
  };
  const key = await readOrCreateAccountKey(settings);
  if (key.created) log(`created the upstream account key ${settings.accountKeyFile} (EC P-256, mode 0600)`);
  await checkUpstreamProfile(settings, log);
  const tls = settings.tls ? { cert: await readFile(settings.tls.certFile), key: await readFile(settings.tls.keyFile) } : undefined;
  const store = await openStore(settings.store);
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseEnv = process.env.CERTFLEET_BROKER_LEASE_SECONDS;
  const leaseMs = leaseMsFromEnv(leaseEnv);
  if (leaseEnv && !leaseMs) log(`CERTFLEET_BROKER_LEASE_SECONDS="${leaseEnv}" ignored: whole seconds from 2 to 3600; the lease stays 120 s`);
  const worker = startWorker({ settings, store, owner, now, log, accountKeyPem: key.pem, ...(leaseMs ? { leaseMs } : {}) });
  const ari = createRenewalInfo({ directoryUrl: settings.upstream, store, now });
  const handler = createDeviceAcmeHandler({
    store,
    publicUrl: settings.publicUrl,
    now,
    profile: settings.profile,
    ari: settings.ari,
    finalized: () => worker.wake(),
    retryAfterSeconds: (order, at) => retryAfterSeconds(order, at),
    renewalInfo: (certId) => ari.renewalInfo(certId),
    setAddresses: createAddressWriter(settings.dns),
    log,
  });
  log(`store ${store.kind}, upstream ${settings.upstream}, devices use ${settings.publicUrl}/directory, worker ${owner}`);
  const every = setInterval(() => log(`stats ${formatStats(worker.stats())}`), 60_000);
  every.unref();
  try {
    return await serveUntilStopped({ name: 'broker', addresses: settings.listen, handler, stderr: opts.stderr, signal: opts.signal, tls, logRequests: false, limits: BROKER_SERVER_LIMITS });
  } finally {
    clearInterval(every);
    await worker.stop();
    log(`stats ${formatStats(worker.stats())}`);
    await store.close();
  }
}

/**
 * A `profile` the CA does not offer is a config error before anything is served (exit 2, naming
 * the line and what the CA offers). An unreachable CA is left to the orders to report.
 */
async function checkUpstreamProfile(settings: BrokerSettings, log: (line: string) => void): Promise<void> {
  if (!settings.profile) return;
  const dir = await fetchDirectory(settings.upstream, 10_000).catch((err: Error) => {
    log(`cannot read ${settings.upstream} to check profile "${settings.profile}": ${err.message}`);
    return null;
  });
  if (!dir || (dir.profiles && Object.hasOwn(dir.profiles, settings.profile))) return;
  const offered = dir.profiles ? Object.keys(dir.profiles) : [];
  const list = offered.length ? `it offers: ${offered.join(', ')}` : 'it offers no profiles';
  throw new ConfigError([{ file: settings.file, line: settings.profileLine ?? 0, severity: 'error', message: `profile: "${settings.profile}" is not offered by ${settings.upstream}; ${list}` }]);
}

/**
 * The order lease from CERTFLEET_BROKER_LEASE_SECONDS (undocumented; tests shorten the takeover
 * after a killed broker with it): whole seconds, 2 to 3600; unset, empty or anything else: the
 * worker's default (120 s). Pure.
 */
export function leaseMsFromEnv(value: string | undefined): number | null {
  if (!value || !/^\d{1,4}$/.test(value)) return null;
  const seconds = Number(value);
  return seconds >= 2 && seconds <= 3600 ? seconds * 1000 : null;
}

/** The worker's counters as one JSON object (for logs and benchmarks). */
export function formatStats(stats: WorkerStats): string {
  return JSON.stringify(stats);
}
