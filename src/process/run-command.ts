import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputTail } from './output-tail.ts';
import { DEFAULT_GRACE_MS, stopGroup, trackGroup } from './process-group.ts';
import type { ProcessRegistry } from './process-registry.ts';
import { findExecutable } from './find-executable.ts';

/** Default time limit of one upload or update command. */
export const DEFAULT_ACTION_TIMEOUT_MS = 5 * 60_000;

/**
 * How long to keep reading after the shell exits. A command that leaves a background process
 * holding its stdout would otherwise keep the result from ever arriving (lematt's
 * `check_output` hung there); that process is left running, only no longer read.
 */
const DRAIN_MS = 250;

/** How a command ended. Serialisable, for `--json` results. */
export interface CommandResult {
  /** Exit status, or null when it ended by a signal or could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** It ran out of time and its process group was stopped. */
  timedOut: boolean;
  /** The last 64 KiB of stdout and stderr, interleaved as they arrived. */
  output: string;
  durationMs: number;
}

/** Options of {@link runShellCommand}. */
export interface ShellOptions {
  /** Added to (and overriding) certfleet's own environment. */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Defaults to certfleet's working directory, as lematt. */
  cwd?: string;
  /** Between SIGTERM and SIGKILL on timeout. */
  graceMs?: number;
  /** Milliseconds, monotonic; injectable for tests. */
  clock?: () => number;
  /** Records the command's process group while it runs (see process-registry.ts). */
  registry?: ProcessRegistry;
  /** Where the command's exit status is written when it ends, even if certfleet died meanwhile. */
  doneFile?: string;
  /** Aborting stops the command's group at once (grace 1 s) and resolves as a timeout would. */
  signal?: AbortSignal;
}

/**
 * The gate every recorded command passes (`$0` is certfleet-gate): it waits on fd 3 until
 * certfleet has recorded its process group, and exits 125 without running anything when
 * certfleet dies first (the pipe closes unwritten).
 */
const GATE = 'IFS= read -r _ <&3 || exit 125; exec 3<&-;';
/** Then a shell command runs as before (`/bin/sh -c`), and its exit status goes to `$2` if set. */
const SHELL_WRAPPER = `${GATE} /bin/sh -c "$1"; s=$?; if [ -n "$2" ]; then (umask 077; printf '%s\n' "$s" >"$2.tmp") && mv -f "$2.tmp" "$2"; fi; exit $s`;
/** Or a prepare command replaces the gate shell (`exec`), keeping its argv exactly. */
const EXEC_WRAPPER = `${GATE} exec "$@"`;

/**
 * Runs `command` through `/bin/sh -c` (so users' globs, pipes and redirects work, as lematt) in
 * a process group of its own, with stdin from /dev/null. After `timeoutMs` the whole group gets
 * SIGTERM, then SIGKILL after `graceMs`, and the result is returned once it is gone. Never throws
 * and never rejects: a command that fails, times out or cannot start is a result; check
 * `exitCode === 0 && !timedOut`.
 */
export function runShellCommand(command: string, opts: ShellOptions): Promise<CommandResult> {
  const clock = opts.clock ?? (() => performance.now());
  const started = clock();
  const tail = new OutputTail();
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = opts.registry || opts.doneFile
        ? spawnGroup('/bin/sh', ['-c', SHELL_WRAPPER, 'certfleet-gate', command, opts.doneFile ?? ''], tail, opts.env, opts.cwd, true)
        : spawnGroup('/bin/sh', ['-c', command], tail, opts.env, opts.cwd);
    } catch (err) {
      resolve({ exitCode: null, signal: null, timedOut: false, output: `cannot start /bin/sh: ${(err as Error).message}`, durationMs: 0 });
      return;
    }
    const untrack = child.pid ? trackGroup(child.pid) : () => {};
    if (child.pid) void openGate(child, command, opts.registry);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let closed = false;
    let timedOut = false;
    let stopping = false;
    let drain: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drain);
      child.stdout?.destroy();
      child.stderr?.destroy();
      untrack();
      opts.signal?.removeEventListener('abort', onAbort);
      if (child.pid) void opts.registry?.remove(child.pid);
      const durationMs = Math.round(clock() - started);
      resolve({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, output: tail.text(), durationMs });
    };
    const settle = () => {
      if (!exit || stopping) return;
      if (closed) finish();
      else drain ??= setTimeout(finish, DRAIN_MS);
    };
    const stopNow = (graceMs: number) => {
      if (timedOut || exit) return;
      timedOut = true;
      stopping = true;
      void stopGroup(child.pid!, graceMs).catch(() => {}).then(() => {
        stopping = false;
        settle();
      });
    };
    const timer = setTimeout(() => stopNow(opts.graceMs ?? DEFAULT_GRACE_MS), opts.timeoutMs);
    const onAbort = () => stopNow(1000);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (!timedOut) clearTimeout(timer);
      settle();
    });
    child.on('close', () => {
      closed = true;
      settle();
    });
    child.on('error', (err) => {
      // Only a failed spawn gets here (certfleet never signals the child through `child.kill`).
      tail.push(`cannot start /bin/sh: ${err.message}\n`);
      exit ??= { code: null, signal: null };
      closed = true;
      stopping = false;
      settle();
    });
  });
}

/**
 * Spawns `file` as the leader of a new process group, stdin from /dev/null, output into `tail`;
 * with `gated`, fd 3 is the gate pipe (see {@link GATE}).
 */
function spawnGroup(file: string, args: string[], tail: OutputTail, env?: Record<string, string>, cwd?: string, gated = false): ChildProcess {
  const stdio: ('ignore' | 'pipe')[] = gated ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn(file, args, { detached: true, stdio, env: { ...process.env, ...env }, cwd });
  child.stdout!.on('data', tail.push);
  child.stderr!.on('data', tail.push);
  return child;
}

/** A prepare process and the group it leads. */
export interface PrepareHandle {
  /** The command as given (after placeholder expansion). */
  readonly command: string;
  readonly argv: readonly string[];
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /** How the leader exited, or null while it runs. */
  exited(): { exitCode: number | null; signal: NodeJS.Signals | null } | null;
  /**
   * Stops the whole group: SIGTERM, then SIGKILL after `graceMs`; resolves once no process of
   * the group is left. Calling it again returns the same promise. Never rejects.
   */
  stop(graceMs?: number): Promise<PrepareResult>;
}

/** How a prepare process ended. Its exit status is information only, as in lematt. */
export interface PrepareResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The leader had already exited before `stop` (a server that failed to start, say). */
  exitedEarly: boolean;
  /** The last 64 KiB of its stdout and stderr. */
  output: string;
}

/** lematt's argv for a prepare command: the string split on runs of whitespace (Python `str.split()`). */
export function splitArgv(command: string): string[] {
  return command.split(/\s+/).filter(Boolean);
}

/**
 * Starts a prepare command as lematt did, split on whitespace and exec'd without a shell, but
 * as the leader of a process group of its own, so that {@link PrepareHandle.stop} reaches
 * everything it started (lematt killed the direct child only and grandchildren survived). stdin
 * is /dev/null, so `ssh -t` gets no terminal; `ssh -tt` forces one, which makes the remote side
 * get SIGHUP when the connection drops. Throws, naming the command, when it cannot start (a
 * missing or non-executable file).
 */
export async function startPrepare(
  command: string,
  opts: { env?: Record<string, string>; cwd?: string; registry?: ProcessRegistry } = {},
): Promise<PrepareHandle> {
  const argv = splitArgv(command);
  if (argv.length === 0) throw new Error(`prepare "${command}": empty command`);
  const tail = new OutputTail();
  if (opts.registry) {
    // Behind the gate the shell execs the command, so a missing one is found here, as spawn would.
    const problem = await findExecutable(argv[0]!, opts.env?.PATH ?? process.env.PATH ?? '');
    if (problem) throw new Error(`prepare "${command}": cannot run ${argv[0]}: ${problem}`);
  }
  const child = opts.registry
    ? spawnGroup('/bin/sh', ['-c', EXEC_WRAPPER, 'certfleet-gate', ...argv], tail, opts.env, opts.cwd, true)
    : spawnGroup(argv[0]!, argv.slice(1), tail, opts.env, opts.cwd);
  let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', (exitCode, signal) => {
    exit = { exitCode, signal };
    resolve();
  }));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await once(child, 'spawn');
  } catch (err) {
    throw new Error(`prepare "${command}": cannot run ${argv[0]}: ${spawnProblem(argv[0]!, err as NodeJS.ErrnoException)}`, { cause: err });
  }
  child.on('error', () => {}); // after a successful spawn, nothing certfleet relies on emits it
  const pid = child.pid!;
  const untrack = trackGroup(pid);
  if (opts.registry) await openGate(child, command, opts.registry);
  let stopping: Promise<PrepareResult> | undefined;
  const stop = (graceMs = DEFAULT_GRACE_MS) => (stopping ??= (async () => {
    const exitedEarly = exit !== null;
    await stopGroup(pid, graceMs).catch(() => {});
    await Promise.race([exited, sleep(DRAIN_MS)]);
    await Promise.race([closed, sleep(DRAIN_MS)]);
    child.stdout?.destroy();
    child.stderr?.destroy();
    untrack();
    await opts.registry?.remove(pid);
    const ended = exit as { exitCode: number | null; signal: NodeJS.Signals | null } | null;
    return { exitCode: ended?.exitCode ?? null, signal: ended?.signal ?? null, exitedEarly, output: tail.text() };
  })());
  return { command, argv, pid, exited: () => exit, stop };
}

/**
 * Records a gated child's group in `registry`, then lets it run. When the record cannot be
 * written the gate is closed unopened and the command does not run (exit 125).
 */
async function openGate(child: ChildProcess, command: string, registry: ProcessRegistry | undefined): Promise<void> {
  const gate = child.stdio[3] as NodeJS.WritableStream | null | undefined;
  if (!gate) return;
  (gate as unknown as { on(e: string, f: () => void): void }).on('error', () => {});
  try {
    await registry?.add(child.pid!, command);
    gate.end('go\n');
  } catch {
    gate.end();
  }
}

function spawnProblem(file: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return file.includes('/') ? 'no such file' : 'not found in PATH';
  if (err.code === 'EACCES') return 'permission denied (not executable?)';
  return err.message;
}
