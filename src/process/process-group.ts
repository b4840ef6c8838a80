import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { procStatFields } from './process-identity.ts';

/** Grace period between SIGTERM and SIGKILL when certfleet stops a process group. */
export const DEFAULT_GRACE_MS = 5_000;

const POLL_MS = 25;
/** How long to wait for the group to vanish after SIGKILL (which cannot be ignored). */
const AFTER_KILL_MS = 2_000;

/** Sends `signal` to process group `pgid`; a group that is already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * True while process group `pgid` has a live member. Zombies do not count: an orphan whose
 * reaper never waits for it (PID 1 in some containers) stays in the group as a zombie forever,
 * yet runs nothing. On Linux that is checked in /proc; elsewhere any member counts.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/** State letter and process group of `pid` from /proc, or null when it is gone or unreadable. */
export function procStat(pid: number): { state: string; pgrp: number } | null {
  const fields = procStatFields(pid);
  return fields ? { state: fields[0]!, pgrp: Number(fields[2]) } : null;
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Stops every process of group `pgid`: SIGTERM, up to `graceMs` for them to exit, then SIGKILL.
 * Resolves once the group has no live member (or, should SIGKILL not take within a short
 * bound, e.g. a process stuck in the kernel, anyway). Never throws for a group already gone.
 */
export async function stopGroup(pgid: number, graceMs = DEFAULT_GRACE_MS): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGone(pgid, AFTER_KILL_MS);
}

const live = new Set<number>();
let exitHookInstalled = false;

/**
 * Remembers a process group certfleet started, so that if certfleet exits while it still runs
 * (an uncaught error, `process.exit`), the group is killed on the way out instead of outliving
 * the run. Returns the function that forgets it again. A SIGKILL of certfleet itself cannot be
 * caught; the CLI should turn SIGINT/SIGTERM into an orderly exit for this to apply.
 */
export function trackGroup(pgid: number): () => void {
  live.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of live) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  return () => live.delete(pgid);
}
