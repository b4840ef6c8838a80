/**
 * A real BIND 9 (`named`) for end-to-end DNS tests: authoritative only, on 127.0.0.1 and a
 * free port (UDP and TCP), with its config, zone files and journals in a temporary directory.
 * A missing `named` is an error, not a skip: install Debian's `bind9` package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../../src/dns/client.ts';
import { RRType } from '../../src/dns/types.ts';
import type { TsigKey } from '../../src/dns/tsig.ts';

const NAMED = '/usr/sbin/named';
const READY_TIMEOUT_MS = 10_000;

/** A zone to serve; `records` are zone-file lines relative to the zone (`www 60 IN A 127.0.0.1`). */
export interface BindZone {
  name: string;
  records?: string[];
  /** Accept updates signed with the key (default true); false answers updates with REFUSED. */
  allowUpdate?: boolean;
}

/** A running named. */
export interface RunningBind {
  port: number;
  dir: string;
  /** named's stderr so far, for assertion messages. */
  log(): string;
  /** Terminates named (SIGTERM, then SIGKILL after 5 s) and removes the directory. */
  stop(): Promise<void>;
}

/** Options of startBind. */
export interface BindOptions {
  zones: BindZone[];
  tsig: TsigKey;
  /**
   * Answer recursive queries from 127.0.0.1 (default false: authoritative only). A CA asks a
   * recursive resolver, which follows a CNAME into another zone; an authoritative-only named
   * stops at the zone boundary, so tests of cross-zone CNAME delegation need this. It never
   * needs to leave its own zones for that.
   */
  recursion?: boolean;
}

/**
 * Starts named with one primary zone per entry, each with SOA, `NS ns.<zone>` and
 * `ns.<zone> A 127.0.0.1`, then the given records. Resolves once it answers SOA for the first
 * zone. Throws when named is missing, exits, or is not ready within 10 s (with its log).
 */
export async function startBind(opts: BindOptions): Promise<RunningBind> {
  try {
    await access(NAMED, constants.X_OK);
  } catch {
    throw new Error(`${NAMED} not found: install the Debian package bind9 (apt-get install bind9)`);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'certfleet-bind-'));
    const port = await freePort();
    const conf = await writeConfig(dir, port, opts);
    const child = spawn(NAMED, ['-g', '-n', '1', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
    const bind: RunningBind = { port, dir, log: () => lines.join(''), stop: () => stop(child, dir) };
    try {
      await waitReady(child, port, opts.zones[0].name, bind.log);
      return bind;
    } catch (e) {
      lastError = e;
      await bind.stop();
    }
  }
  throw lastError;
}

async function writeConfig(dir: string, port: number, opts: BindOptions): Promise<string> {
  const key = opts.tsig;
  const zones = opts.zones.map((z) => {
    const update = z.allowUpdate === false ? 'none;' : `key "${key.name}";`;
    return `zone "${z.name}" { type primary; file "${z.name}.zone"; allow-update { ${update} }; };`;
  });
  // session-keyfile and managed-keys-directory default to system paths that parallel or
  // unprivileged runs cannot share; controls {} turns the rndc channel off.
  const conf = [
    'options {',
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    ...(opts.recursion ? ['  recursion yes;', '  allow-recursion { 127.0.0.1; };'] : ['  recursion no;']),
    '  dnssec-validation no;',
    '  notify no;',
    '  pid-file none;',
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    '};',
    'controls { };',
    `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`,
    ...zones,
    '',
  ].join('\n');
  for (const z of opts.zones) {
    const origin = z.name.replace(/\.$/, '');
    const zoneFile = [
      `$ORIGIN ${origin}.`,
      '$TTL 60',
      `@ IN SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60`,
      `@ IN NS ns.${origin}.`,
      'ns IN A 127.0.0.1',
      ...(z.records ?? []),
      '',
    ].join('\n');
    await writeFile(join(dir, `${origin}.zone`), zoneFile);
  }
  const path = join(dir, 'named.conf');
  await writeFile(path, conf, { mode: 0o600 });
  return path;
}

/** A port free for both TCP and UDP on 127.0.0.1 at the time of asking. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port for named on 127.0.0.1');
}

async function waitReady(child: ChildProcess, port: number, zone: string, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`named exited (${child.exitCode ?? child.signalCode}) before serving:\n${log()}`);
    }
    try {
      const answer = await query({ host: '127.0.0.1', port }, zone, RRType.SOA, { timeoutMs: 200, attempts: 1 });
      if (answer.rcode === 0 && answer.answers.length > 0) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`named on port ${port} did not answer SOA ${zone} within ${READY_TIMEOUT_MS} ms:\n${log()}`);
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}
