import { promises as fs } from 'node:fs';

/**
 * Keeps a damaged state file for the user to look at: renames `file` to
 * `<file>.damaged-<UTC timestamp>` and returns that name. certfleet then goes on from what the
 * files on disk say; the damaged copy is never read again.
 */
export async function setAside(file: string, now: Date): Promise<string> {
  const aside = `${file}.damaged-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  await fs.rename(file, aside);
  return aside;
}
