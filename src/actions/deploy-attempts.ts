import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DeployAttempt } from './deploy-state.ts';

/**
 * Exit-status markers of a deployment's commands. Each command runs in a wrapper shell that,
 * once the command has ended, writes its exit status to `<stateDir>/deploy-<id>-<n>.rc` (a
 * rename, so it is whole or absent). certfleet may die right after a section's `update` finished
 * and before it recorded that: the next run reads the markers instead of running the section
 * again, so an `update` that ran to its end is never repeated.
 */
export function newAttemptId(): string {
  return randomBytes(8).toString('hex');
}

/** The marker file of command `index` of attempt `id`. */
export function markerPath(stateDir: string, id: string, index: number): string {
  return path.join(stateDir, `deploy-${id}-${index}.rc`);
}

/**
 * How an attempt a dead run left ended, from its markers: `done` when every command exited 0,
 * `failed` when one exited otherwise, `incomplete` when a command never finished (it was
 * stopped, or never started): the section is run again.
 */
export async function attemptOutcome(stateDir: string, attempt: DeployAttempt): Promise<'done' | 'failed' | 'incomplete'> {
  for (let i = 0; i < attempt.commands; i++) {
    const text = await fs.readFile(markerPath(stateDir, attempt.id, i), 'utf8').catch(() => null);
    if (text === null) return 'incomplete';
    if (text.trim() !== '0') return 'failed';
  }
  return 'done';
}

/** Removes the markers of attempt `id` (and their temp files); best effort. */
export async function removeMarkers(stateDir: string, id: string): Promise<void> {
  const entries = await fs.readdir(stateDir).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => e.startsWith(`deploy-${id}-`)).map((e) => fs.rm(path.join(stateDir, e), { force: true }).catch(() => {})));
}
