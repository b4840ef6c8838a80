import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat from the third (state) on, or null when the process is gone or
 * this is not Linux. `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so the
 * line is cut at the last `)`.
 */
export function procStatFields(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/**
 * The start time of process `pid` (clock ticks since boot, field 22 of /proc/<pid>/stat), or
 * null when it is gone or this is not Linux. A pid and its start time name one process for good:
 * a recycled pid has another start time.
 */
export function startTime(pid: number): string | null {
  // fields[0] is field 3 (state), so field 22 is fields[19].
  return procStatFields(pid)?.[19] ?? null;
}

/** True while `pid` runs (a process of another user counts: EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True while the process that was `pid` when `started` was read still runs. Without /proc (not
 * Linux) or without a recorded start time, a live pid is taken to be that process.
 */
export function sameProcessAlive(pid: number, started: string | null): boolean {
  if (!pidAlive(pid)) return false;
  if (started === null || process.platform !== 'linux') return true;
  const now = startTime(pid);
  return now === null ? true : now === started;
}

/** This process's identity as `<pid>-<start time>` (start time 0 where /proc is missing). */
export function selfIdentity(): string {
  return `${process.pid}-${startTime(process.pid) ?? '0'}`;
}
