import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Why certfleet could not put a file at `target`, or null when it can: the target must be absent
 * or a regular file (a link counts as the file it replaces), and its directory writable. Checked
 * before an order is placed, so a directory where a key should be costs no order, and before a
 * publish moves anything, so a blocked publish never leaves half a pair. The message says what
 * to do.
 */
export async function checkTarget(target: string): Promise<string | null> {
  const st = await fs.lstat(target).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err));
  if (st instanceof Error) return `${target}: cannot check it (${(st as NodeJS.ErrnoException).code ?? st.message}); fix its directory`;
  if (st && st.isDirectory()) return `${target} is a directory; certfleet writes a file there: move the directory away`;
  if (st && !st.isFile() && !st.isSymbolicLink()) return `${target} is not a regular file; move it away`;
  const dir = path.dirname(target);
  try {
    await fs.access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null; // made by the run before it writes
    return `${dir}: not writable by certfleet (${code}); fix its owner or mode`;
  }
  return null;
}

/** The first problem of {@link checkTarget} over `targets`, or null. */
export async function checkTargets(targets: readonly string[]): Promise<string | null> {
  for (const t of targets) {
    const problem = await checkTarget(t);
    if (problem) return problem;
  }
  return null;
}
