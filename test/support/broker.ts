/**
 * The fleet broker in end-to-end tests: broker.conf written for a Pebble that resolves through a
 * BIND taking TSIG-signed updates for the fleet's zone, `certfleet broker serve` started as a
 * child process (HTTPS with a throw-away CA of its own), enrollment through the CLI, and the
 * devices' ACME clients: certfleet itself, Debian's certbot and lego.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCertfleet, certfleetBin } from './certfleet.ts';
import { freePort, requireBinary, startProcess, waitReady, type ServerProcess } from './process.ts';
import { makeTlsFiles, type TlsFiles } from './tls.ts';
import type { TsigKey } from '../../src/dns/tsig.ts';

/** What a broker.conf for the tests needs. */
export interface BrokerConfOptions {
  dir: string;
  /** Pebble's (or the ARI stand-in's) directory URL. */
  upstream: string;
  bindPort: number;
  tsig: TsigKey;
  zone: string;
  /** `store:` value; default `<dir>/store`. */
  store?: string;
  port?: number;
  /** Whether devices talk HTTPS (default true). */
  tls?: TlsFiles | false;
  /** Extra `[broker]` lines. */
  extra?: string[];
  /** The URL devices use when it is not the broker's own (behind a load balancer). */
  publicUrl?: string;
  /** `accountKey:` path; default `<dir>/account.pem`. Brokers sharing a store share it. */
  accountKey?: string;
}

/** Writes broker.conf (and TLS files unless `tls: false`); returns its path, port and the CA devices must trust. */
export async function writeBrokerConf(opts: BrokerConfOptions): Promise<{ conf: string; port: number; publicUrl: string; directory: string; caCertPath: string | null }> {
  await mkdir(opts.dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const tls = opts.tls === false ? null : (opts.tls ?? (await makeTlsFiles(opts.dir)));
  const publicUrl = opts.publicUrl ?? `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dns = `127.0.0.1:${opts.bindPort}`;
  const conf = join(opts.dir, 'broker.conf');
  await writeFile(conf, [
    '[broker]',
    `listen: 127.0.0.1:${port}`,
    ...(tls ? [`tlsCert: ${tls.certPath}`, `tlsKey: ${tls.keyPath}`] : []),
    `publicUrl: ${publicUrl}`,
    `store: ${opts.store ?? join(opts.dir, 'store')}`,
    `upstream: ${opts.upstream}`,
    `accountKey: ${opts.accountKey ?? join(opts.dir, 'account.pem')}`,
    'contact: fleet-ops@example.com',
    ...(opts.extra ?? []),
    '',
    '[dns:fleet]',
    `zones: ${opts.zone}`,
    'provider: rfc2136',
    `server: ${dns}`,
    `tsigKey: ${opts.tsig.name}`,
    `tsigAlgorithm: ${opts.tsig.algorithm}`,
    `tsigSecret: ${opts.tsig.secret}`,
    `nameservers: ${dns}`,
    'propagationTimeout: 30',
    '',
  ].join('\n'));
  return { conf, port, publicUrl, directory: `${publicUrl}/directory`, caCertPath: tls ? tls.caCertPath : null };
}

/** A running `certfleet broker serve`. */
export interface RunningBroker {
  process: ServerProcess;
  /** Everything it printed so far (bounded tail). */
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts `certfleet broker serve --config conf` and waits until its directory answers. `env`
 * must let it trust Pebble (NODE_EXTRA_CA_CERTS); the readiness probe trusts `caCertPath`.
 */
export async function startBroker(opts: { conf: string; directory: string; env: Record<string, string>; cwd: string; name?: string }): Promise<RunningBroker> {
  const env = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT;
  const proc = startProcess(opts.name ?? 'broker', certfleetBin, ['broker', 'serve', '--config', opts.conf], env, opts.cwd);
  await waitReady(proc, 'the broker', Date.now() + 30_000, async () => /listening on/.test(proc.tail()));
  return {
    process: proc,
    log: () => proc.tail(),
    stop: () => proc.stop(10_000),
    async kill() {
      if (proc.exited()) return;
      const done = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
      proc.child.kill('SIGKILL');
      await done;
    },
  };
}

/** `certfleet broker enroll --json`; throws with its output when it fails. */
export async function enroll(conf: string, device: string, names: string[], cwd: string): Promise<{ eabKid: string; eabHmacKey: string; directory: string }> {
  const r = await runCertfleet(['broker', 'enroll', '--config', conf, '--json', device, ...names], { cwd });
  if (r.code !== 0) throw new Error(`broker enroll ${device}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as { eabKid: string; eabHmacKey: string; directory: string };
}

/** A finished child process. */
export interface Ran {
  code: number | null;
  out: string;
}

/** Runs a command with a time bound, capturing its output. */
export function run(command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(command, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

/**
 * certbot as a device: its own key, EAB (`eab: null` leaves the flags out), no challenge plugin
 * needed (the broker's authorizations are valid). `command` `register` only makes the account.
 */
export async function runCertbot(opts: { directory: string; caCertPath: string; eab: { eabKid: string; eabHmacKey: string } | null; names: string[]; dir: string; keyType?: 'ecdsa' | 'rsa'; command?: 'certonly' | 'register' }): Promise<Ran & { certPath: string; keyPath: string }> {
  const certbot = requireBinary('/usr/bin/certbot', 'certbot');
  await mkdir(opts.dir, { recursive: true });
  const dirs = ['--config-dir', join(opts.dir, 'config'), '--work-dir', join(opts.dir, 'work'), '--logs-dir', join(opts.dir, 'logs')];
  const common = ['--non-interactive', '--agree-tos', '--register-unsafely-without-email', '--server', opts.directory, ...dirs,
    ...(opts.eab ? ['--eab-kid', opts.eab.eabKid, '--eab-hmac-key', opts.eab.eabHmacKey] : [])];
  const r = await run(certbot, opts.command === 'register' ? ['register', ...common] : [
    'certonly', ...common,
    '--manual', '--manual-auth-hook', '/bin/false', '--preferred-challenges', 'dns',
    '--key-type', opts.keyType ?? 'ecdsa', '--cert-name', 'device',
    ...opts.names.flatMap((n) => ['-d', n]),
  ], { env: { REQUESTS_CA_BUNDLE: opts.caCertPath }, timeoutMs: 180_000 });
  const live = join(opts.dir, 'config', 'live', 'device');
  // Debian's certbot 2.1 with its josepy crashes ("AttributeError: can't set attribute") while
  // reporting any ACME error, so the server's problem is only in its debug log: add it.
  if (r.code !== 0) {
    const log = await readFile(join(opts.dir, 'logs', 'letsencrypt.log'), 'utf8').catch(() => '');
    const problems = log.split('\n').filter((line) => line.includes('"urn:ietf:params:acme:error:'));
    if (problems.length) r.out += `\n[certbot's debug log: the server answered]\n${problems.join('\n')}\n`;
  }
  return { ...r, certPath: join(live, 'fullchain.pem'), keyPath: join(live, 'privkey.pem') };
}

/**
 * lego as a device: its own key, EAB; the dns `exec` provider is configured but never called
 * (authorizations are valid). With `csr`, lego sends that CSR (file) instead of making a key.
 */
export async function runLego(opts: { directory: string; caCertPath: string; eab: { eabKid: string; eabHmacKey: string }; names: string[]; dir: string; csr?: string }): Promise<Ran & { certPath: string; keyPath: string }> {
  const lego = requireBinary('/usr/bin/lego', 'lego');
  await mkdir(opts.dir, { recursive: true });
  const r = await run(lego, [
    '--server', opts.directory, '--accept-tos', '--email', 'device@example.com',
    '--eab', '--kid', opts.eab.eabKid, '--hmac', opts.eab.eabHmacKey,
    '--path', opts.dir, '--dns', 'exec', '--dns.disable-cp',
    ...(opts.csr ? ['--csr', opts.csr] : opts.names.flatMap((n) => ['--domains', n])), 'run',
  ], { env: { LEGO_CA_CERTIFICATES: opts.caCertPath, EXEC_PATH: '/bin/false' }, timeoutMs: 180_000 });
  const base = (opts.names[0] ?? 'csr').replace(/^\*/, '_');
  return { ...r, certPath: join(opts.dir, 'certificates', `${base}.crt`), keyPath: join(opts.dir, 'certificates', `${base}.key`) };
}
