/**
 * Child-process plumbing shared by the real-server test harness: free ports, binaries that must
 * exist, long-running children with a bounded log tail, and readiness polling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the
 * kernel chose and closes the socket. Another process may take it before the caller binds it;
 * that window is accepted for tests.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: no TCP address');
  return address.port;
}

/**
 * Returns `path` when it is an executable file; throws an error naming the Debian package that
 * provides it otherwise. The harness never skips a test for a missing server.
 */
export function requireBinary(path: string, debianPackage: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new Error(
      `${path}: not found or not executable; install it with ` +
        `'apt-get install -y ${debianPackage}' (Debian package ${debianPackage})`,
      { cause },
    );
  }
  return path;
}

const TAIL_BYTES = 8192;

/** A long-running child whose stdout and stderr are drained into a bounded tail. */
export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The exit code or signal once it exited, else null. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** The last few KiB of its combined stdout and stderr, then of each of its log files. */
  tail(): string;
  /** Sends SIGTERM, waits up to `graceMs` for exit, then SIGKILL and waits again. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Terminates children a test forgot to stop, so a crashed test leaves no server behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

function fileTail(path: string): string {
  try {
    return `--- ${path} (tail) ---\n${readFileSync(path, 'utf8').slice(-TAIL_BYTES)}`;
  } catch {
    return `--- ${path}: not written ---`;
  }
}

/**
 * Starts `command` with `args`; its output is always drained (a full pipe would block the
 * server) into a tail kept for error messages, to which the tails of `logFiles` (servers that
 * log to files) are added. Spawn failures show up through exited() and tail().
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  logFiles: string[] = [],
): ServerProcess {
  installExitHook();
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const append = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      running.delete(child);
      resolve();
    });
    child.on('error', (error) => {
      tail += `\n[${command}: ${error.message}]`;
      if (child.pid === undefined) {
        // never started: no 'exit' event will follow
        exit = { code: null, signal: null };
        running.delete(child);
        resolve();
      }
    });
  });
  running.add(child);
  return {
    name,
    child,
    exited: () => exit,
    tail: () => [tail, ...logFiles.map(fileTail)].join('\n'),
    async stop(graceMs = 5000) {
      if (exit !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const grace = new AbortController();
      const timedOut = await Promise.race([
        exitPromise.then(() => false),
        sleep(graceMs, true, { signal: grace.signal }).catch(() => false),
      ]);
      grace.abort(); // a pending grace timer would keep the event loop alive
      if (timedOut) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
  };
}

/**
 * Polls `probe` every 100 ms until it resolves true, or throws when `server` exits first or
 * `deadline` (epoch ms) passes. The error names the server and quotes its output tail.
 */
export async function waitReady(
  server: ServerProcess,
  what: string,
  deadline: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  let lastError = '';
  for (;;) {
    const exit = server.exited();
    if (exit !== null) {
      throw new Error(
        `${server.name}: exited (code ${exit.code}, signal ${exit.signal}) before ${what} was ready\n` +
          `--- ${server.name} output (tail) ---\n${server.tail()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${server.name}: ${what} not ready in time (last probe error: ${lastError || 'none'})\n` +
          `--- ${server.name} output (tail) ---\n${server.tail()}`,
      );
    }
    await sleep(100);
  }
}
