/**
 * How many connections this process can hold open without running out of file descriptors.
 * Running out is the worst way to be full: accept() then fails with EMFILE and libuv drops every
 * pending connection, good or bad. Staying under the limit lets the server choose whom to shed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Descriptors kept free for what else the process opens (log files, DNS, the libuv pool). */
export const FD_MARGIN = 32;

/** A budget never goes below this, so a tiny limit still serves a few requests. */
export const MIN_FD_BUDGET = 16;

/**
 * Parses the soft "Max open files" limit out of `/proc/<pid>/limits` text; `null` when the line
 * is missing, and `Infinity` for `unlimited`.
 */
export function parseOpenFilesLimit(limitsText: string): number | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const n = Number(soft);
  return soft && Number.isInteger(n) ? n : null;
}

/**
 * Returns how many more descriptors this process may use for connections: its open-files limit
 * (Node raises the soft limit to the hard one at start, so this is `ulimit -Hn` of the shell)
 * minus those open now minus {@link FD_MARGIN}, at least {@link MIN_FD_BUDGET}. `Infinity` where
 * the limit cannot be read (no /proc: not Linux), so only the configured cap applies there.
 */
export function connectionFdBudget(): number {
  let limit: number | null;
  let open: number;
  try {
    limit = parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
    open = readdirSync('/proc/self/fd').length;
  } catch {
    return Infinity;
  }
  if (limit === null || limit === Infinity) return Infinity;
  return Math.max(MIN_FD_BUDGET, limit - open - FD_MARGIN);
}
