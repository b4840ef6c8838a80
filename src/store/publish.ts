import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { syncDir, writeAtomic, MODE_STATE } from './atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from './dirs.ts';

/** One staged file and the place it must end up. */
export interface Move {
  from: string;
  to: string;
}

const JOURNAL = /^publish-[0-9a-f]{16}\.json$/;

/**
 * Moves several staged files into place as one unit (a new key with its certificate).
 *
 * Two renames cannot be one atomic step, so the intent is written first to a journal in
 * `stateDir`: a crash before the journal leaves the previous files untouched (the staged ones
 * are swept later); a crash after it is completed by {@link recoverPublishes} at the start of
 * the next run, before anything reads the files. Actions run only after this returns, so no
 * deployment ever sees a half-published pair.
 */
export async function publishTogether(stateDir: string, moves: readonly Move[]): Promise<void> {
  if (moves.length === 1) {
    await fs.rename(moves[0].from, moves[0].to);
    await syncDir(path.dirname(moves[0].to));
    return;
  }
  await ensureDir(stateDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
  const journal = path.join(stateDir, `publish-${randomBytes(8).toString('hex')}.json`);
  await writeAtomic(journal, JSON.stringify({ moves }), MODE_STATE);
  await applyMoves(moves);
  await fs.rm(journal, { force: true });
}

async function applyMoves(moves: readonly Move[]): Promise<void> {
  const dirs = new Set<string>();
  for (const m of moves) {
    try {
      await fs.rename(m.from, m.to);
      dirs.add(path.dirname(m.to));
    } catch (err) {
      // Already moved by an earlier attempt: the journal is being replayed.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  for (const d of dirs) await syncDir(d);
}

/**
 * Completes publishes a crash interrupted (see {@link publishTogether}). Must run under the
 * run lock and before temp files are swept. Returns the targets it completed.
 */
export async function recoverPublishes(stateDir: string): Promise<string[]> {
  const entries = await fs.readdir(stateDir).catch(() => [] as string[]);
  const done: string[] = [];
  for (const entry of entries.filter((e) => JOURNAL.test(e))) {
    const file = path.join(stateDir, entry);
    const { moves } = JSON.parse(await fs.readFile(file, 'utf8')) as { moves: Move[] };
    await applyMoves(moves);
    done.push(...moves.map((m) => m.to));
    await fs.rm(file, { force: true });
  }
  return done;
}
