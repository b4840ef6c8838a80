/**
 * A PostgreSQL cluster of the tests' own: `initdb` into a temporary directory, `postgres` on
 * 127.0.0.1 and a free port with its unix socket in that directory and fsync on, one database and
 * a password-protected role. Debian's `postgresql` package provides the binaries; a missing
 * package is an error, not a skip. PostgreSQL refuses to run as root, so under root (here and in
 * CI) the cluster runs as the `postgres` system user the package creates. The system service is
 * never touched.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, requireBinary, startProcess, waitReady, type ServerProcess } from './process.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 15_000;
const USER = 'certfleet';
const DATABASE = 'certfleet';

/** A running cluster. */
export interface RunningPostgres {
  /** `postgres://certfleet:PASSWORD@127.0.0.1:PORT/certfleet`. */
  url: string;
  /** Stops the server (fast shutdown, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
  /** The server's output so far, for assertion messages. */
  log(): string;
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`; throws naming the package when none does. */
export async function postgresBinDir(): Promise<string> {
  const versions = await readdir(ROOT).catch(() => [] as string[]);
  const newestFirst = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const bin = join(ROOT, newestFirst[0] ?? 'VERSION', 'bin');
  requireBinary(join(bin, 'initdb'), 'postgresql');
  return bin;
}

/** Who runs the cluster: ourselves, or the `postgres` user when we are root. */
async function clusterUser(): Promise<{ uid: number; gid: number; wrap: (argv: string[]) => string[] } | null> {
  if (process.getuid?.() !== 0) return null;
  const id = async (flag: string): Promise<number> => {
    try {
      return Number((await run('id', [flag, 'postgres'])).stdout.trim());
    } catch (cause) {
      throw new Error(`postgres: no 'postgres' system user to run the test cluster as; install Debian's postgresql package`, { cause });
    }
  };
  const uid = await id('-u');
  const gid = await id('-g');
  // setpriv execs the server itself (no intermediate process), so signals reach it directly.
  const wrap = (argv: string[]): string[] => ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv];
  return { uid, gid, wrap };
}

/**
 * Initialises and starts a cluster and creates its database. Resolves once a client can log in;
 * throws with the server's output when it exits or is not ready within 15 s.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = await postgresBinDir();
  const as = await clusterUser();
  const wrap = as?.wrap ?? ((argv: string[]) => argv);
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-pg-'));
  let server: ServerProcess | null = null;
  try {
    const data = join(dir, 'data');
    const password = randomBytes(18).toString('base64url');
    await mkdir(data, { mode: 0o700 });
    await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (as) for (const path of [dir, data, join(dir, 'pwfile')]) await chown(path, as.uid, as.gid);
    // --no-sync only for the bootstrap files; the running server fsyncs (fsync=on below).
    const [initdb, ...initArgs] = wrap([join(bin, 'initdb'), '-D', data, '-U', USER, '--pwfile', join(dir, 'pwfile'),
      '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    await run(initdb, initArgs, { cwd: dir }).catch((cause: Error & { stderr?: string }) => {
      throw new Error(`postgres: initdb failed: ${cause.stderr ?? cause.message}`, { cause });
    });
    // The free port may be taken before postgres binds it: then it exits, and another is tried.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const [command, ...args] = wrap([join(bin, 'postgres'), '-D', data, '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=on',
        '-c', 'logging_collector=off', '-c', 'max_connections=50']);
      server = startProcess('postgres', command, args, { PATH: process.env.PATH, LANG: 'C' }, dir);
      const url = `postgres://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`;
      try {
        await waitReady(server, `port ${port}`, Date.now() + READY_TIMEOUT_MS, () => createDatabase(url));
      } catch (error) {
        if (attempt === 3 || server.exited() === null) throw error;
        continue;
      }
      const running = server;
      return { url, log: () => running.tail(), stop: () => stopCluster(running, dir) };
    }
  } catch (error) {
    if (server) await stopCluster(server, dir);
    else await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Creates the tests' database through the `postgres` one; true once done. */
async function createDatabase(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url.replace(/\/certfleet$/, '/postgres'), connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${DATABASE}`);
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients to leave). */
async function stopCluster(server: ServerProcess, dir: string): Promise<void> {
  if (server.exited() === null) {
    const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    server.child.kill('SIGINT');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}
