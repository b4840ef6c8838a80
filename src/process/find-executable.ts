import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Why `file` cannot be executed as spawn would look it up (a path when it holds a `/`, else
 * through `PATH`), or null when it can: `no such file`, `not found in PATH`, or
 * `permission denied (not executable?)`.
 */
export async function findExecutable(file: string, pathVar: string): Promise<string | null> {
  const usable = async (candidate: string): Promise<'ok' | 'missing' | 'denied'> => {
    const st = await fs.stat(candidate).catch(() => null);
    if (!st || !st.isFile()) return 'missing';
    return fs.access(candidate, constants.X_OK).then(() => 'ok' as const, () => 'denied' as const);
  };
  if (file.includes('/')) {
    const found = await usable(file);
    return found === 'ok' ? null : found === 'missing' ? 'no such file' : 'permission denied (not executable?)';
  }
  let denied = false;
  for (const dir of pathVar.split(':')) {
    const found = await usable(path.join(dir || '.', file));
    if (found === 'ok') return null;
    if (found === 'denied') denied = true;
  }
  return denied ? 'permission denied (not executable?)' : 'not found in PATH';
}
