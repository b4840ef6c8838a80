import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Permissions certfleet writes with: private keys 0600, public material 0644, its own state 0600. */
export const MODE_KEY = 0o600;
export const MODE_PUBLIC = 0o644;
export const MODE_STATE = 0o600;

/**
 * A hidden name next to `target`, so that a rename is atomic (same directory, same filesystem)
 * and users' globs such as `<name>*` never match it.
 */
export function siblingTemp(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${randomBytes(4).toString('hex')}`);
}

/** fsyncs a directory so that a rename inside it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to a new hidden file beside `target` with exactly `mode` (umask does not apply),
 * fsynced. Returns its path; the caller renames it into place (or removes it).
 */
export async function stage(target: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = siblingTemp(target);
  const handle = await fs.open(temp, 'wx', mode).catch((err: Error) => {
    throw withPath(target, err);
  });
  try {
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(temp, { force: true });
    throw withPath(target, err as Error);
  }
  return temp;
}

/**
 * An error of writing `target` whose message names it: Node's write and fsync errors (ENOSPC,
 * EDQUOT, EIO) carry no path. The code (`ENOSPC`…) and the cause are kept.
 */
export function withPath(target: string, err: Error): Error {
  if (err.message.includes(target)) return err;
  const wrapped = new Error(`${target}: ${err.message}`, { cause: err }) as NodeJS.ErrnoException;
  wrapped.code = (err as NodeJS.ErrnoException).code;
  return wrapped;
}

/**
 * Replaces `target` atomically: temp file + fsync + rename + directory fsync. At every instant
 * `target` holds either the old or the new content, never a mix (lematt.md §9 A8).
 */
export async function writeAtomic(target: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temp = await stage(target, data, mode);
  try {
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw withPath(target, err as Error);
  }
  await syncDir(path.dirname(target));
}

/**
 * Points `linkPath` at `target` (a relative name) atomically, by renaming a fresh symlink over
 * it. Never replaces a regular file: lematt did, destroying a line's own key or certificate when
 * the same name was a SAN elsewhere (lematt.md §9 A6). Returns false when it left a file alone.
 */
export async function linkAtomic(linkPath: string, target: string): Promise<boolean> {
  const existing = await fs.lstat(linkPath).catch(() => null);
  if (existing && !existing.isSymbolicLink()) return false;
  if (existing && (await fs.readlink(linkPath)) === target) return true;
  const temp = siblingTemp(linkPath, 'link');
  await fs.symlink(target, temp);
  try {
    await fs.rename(temp, linkPath);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  return true;
}

/**
 * Reads a file as text, or null when it does not exist (a dangling link, or a parent that is not
 * a directory, counts as missing, as in lematt). Other errors propagate.
 */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * Removes leftover hidden temp files of ours (from a crash) in `dir`, except those in `keep`
 * (staged files a blocked publish journal still needs); best effort.
 */
export async function sweepTemps(dir: string, keep: ReadonlySet<string> = new Set()): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\..+\.(tmp|link)-[0-9a-f]{8}$/.test(e) && !keep.has(path.join(dir, e)))
      .map((e) => fs.rm(path.join(dir, e), { force: true }).catch(() => {})),
  );
}
