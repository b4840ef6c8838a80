/**
 * Kill-point harness: runs the npm bundle (bin/certfleet) with a hook (fs-call-hook.mjs, loaded
 * through NODE_OPTIONS) that counts the file-system calls of the run and kills it at the Nth, so a test
 * can stop a run before each of its file-system calls in turn. The hook counts calls of the
 * certfleet process only (not of the actions it starts), in the order the process makes them.
 * Always the bundle, also when $CERTFLEET_BIN names the single executable: a Node single
 * executable ignores NODE_OPTIONS, so the hook cannot be put into it; both forms are built from
 * the same code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBin } from './certfleet.ts';

/** The hook module, for NODE_OPTIONS=--import=… */
export const fsCallHook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fs-call-hook.mjs');
const hook = fsCallHook;

/** How one hooked run ended, and how many file-system calls it made (or made before the kill). */
export interface HookedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  calls: number;
  stderr: string;
}

/**
 * Runs `bin/certfleet args…` under the hook. `killAt` 0 counts only; N > 0 sends `signal` at
 * the start of the Nth call. Resolves when the process has exited (its own process group is
 * left alone, as a real kill of certfleet would leave its actions running). Bounded by
 * `timeoutMs` (default 60 s), then SIGKILLed.
 */
export function runHooked(args: string[], env: Record<string, string>, killAt = 0, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 60_000): Promise<HookedRun> {
  if (!existsSync(bundleBin)) return Promise.reject(new Error(`${bundleBin}: not built; run 'npm run build' first`));
  const countFile = path.join(tmpdir(), `certfleet-calls-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env,
    NODE_OPTIONS: `--import=${hook}`,
    CERTFLEET_KILL_AT: String(killAt),
    CERTFLEET_KILL_SIGNAL: signal,
    CERTFLEET_COUNT_FILE: countFile,
  };
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(bundleBin, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      let calls = -1;
      try {
        calls = Number(readFileSync(countFile, 'utf8'));
        rmSync(countFile, { force: true });
      } catch {
        // killed: no count written
      }
      resolve({ code, signal: sig, calls, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/**
 * Up to `max` kill points spread evenly over calls 1…`total` (every one when `total` ≤ `max`),
 * so a suite stays within minutes when a run makes hundreds of calls.
 */
export function samplePoints(total: number, max: number): number[] {
  if (total <= max) return Array.from({ length: total }, (_, i) => i + 1);
  const points = new Set<number>();
  for (let i = 0; i < max; i++) points.add(1 + Math.round((i * (total - 1)) / (max - 1)));
  return [...points];
}

/**
 * Pids of live (not zombie) processes whose command line starts with `needle` (Linux /proc): the
 * command itself, not a shell that has it among its arguments (certfleet's gate shell, waiting).
 */
export function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.startsWith(needle) && state !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
