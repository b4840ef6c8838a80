import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { syncDir, writeAtomic, MODE_STATE } from './atomic.ts';
import { placeLinks } from './links.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from './dirs.ts';
import { setAside } from './set-aside.ts';
import { checkTarget } from './target-check.ts';

/** One staged file and the place it must end up. */
export interface Move {
  from: string;
  to: string;
}

/** A per-name link made once the files are in place (see layout.ts `links`). */
export interface Link {
  path: string;
  target: string;
}

/**
 * Everything one publish installs, written to the journal before the first rename: the moves,
 * the links, and `owed`, the caller's record of what installing it owes (the deployment),
 * handed to `installed` by whichever run completes the publish. The store does not read `owed`.
 */
export interface PublishIntent {
  moves: Move[];
  links: Link[];
  owed: unknown;
}

/** Called once the files and links of a publish are in place, before its journal is removed. */
export type Installed = (owed: unknown) => Promise<void>;

/** A journal that cannot be completed until the user fixes something (a directory in the way). */
export class PublishBlockedError extends Error {
  constructor(message: string, readonly targets: readonly string[]) {
    super(message);
    this.name = 'PublishBlockedError';
  }
}

const JOURNAL = /^publish-[0-9a-f]{16}\.json$/;
const VERSION = 2;

/**
 * Moves several staged files into place as one unit (a new key with its certificate), makes the
 * per-name links and records what that owes, all through one journal in `stateDir`:
 * the journal (moves, links and `owed`) is written first; a crash before it leaves the previous
 * files untouched (the staged ones are swept later); a crash after it is completed by
 * {@link recoverPublishes} at the start of the next run, which also calls `installed`. So
 * whatever the moment of a crash, an installed certificate has its links and its deployment is
 * recorded exactly once (`installed` must be idempotent: recording the same owed twice is once).
 * Every target is checked first (absent or a regular file, its directory writable): when one is
 * not, nothing moves and {@link PublishBlockedError} says what to fix. Returns warnings (a link
 * left alone because a real file has its name).
 */
export async function publishTogether(stateDir: string, intent: PublishIntent, installed: Installed): Promise<string[]> {
  await ensureDir(stateDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
  const journal = path.join(stateDir, `publish-${randomBytes(8).toString('hex')}.json`);
  await writeAtomic(journal, JSON.stringify({ version: VERSION, ...intent }), MODE_STATE);
  let warnings: string[];
  try {
    warnings = await complete(intent, stateDir);
  } catch (err) {
    // Blocked before anything moved: the journal must not complete it later with files gone.
    if (err instanceof PublishBlockedError) await fs.rm(journal, { force: true });
    throw err;
  }
  await installed(intent.owed);
  await fs.rm(journal, { force: true });
  return warnings;
}

async function complete(intent: PublishIntent, stateDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const m of intent.moves) {
    const problem = await checkTarget(m.to);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new PublishBlockedError(problems.join('; '), intent.moves.map((m) => m.to));
  await applyMoves(intent.moves);
  // Only the links this certificate owns (see links.ts): never another line's own file.
  const { warnings } = await placeLinks(intent.links, stateDir);
  return warnings;
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

/** What {@link recoverPublishes} found. */
export interface Recovery {
  /** Targets of the publishes it completed. */
  completed: string[];
  /** Journals it could not complete (kept, with their staged files, for a later run). */
  blocked: PublishBlockedError[];
  /** Staged files the blocked journals still need: the temp sweep must spare them. */
  keep: Set<string>;
  /** Warnings: damaged journals set aside, links left alone. */
  warnings: string[];
}

/**
 * Completes publishes a crash interrupted (see {@link publishTogether}), calling `installed` for
 * each. Must run under the run lock and before temp files are swept. A journal that is garbage is
 * set aside (renamed with a timestamp) with a warning: what it would have installed is unknown,
 * so the files on disk are used as they are (a key and certificate that do not match are renewed,
 * never paired by guess). A journal whose targets are blocked is kept and reported; the others go on.
 */
export async function recoverPublishes(stateDir: string, installed: Installed, now: Date): Promise<Recovery> {
  const out: Recovery = { completed: [], blocked: [], keep: new Set(), warnings: [] };
  const entries = await fs.readdir(stateDir).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => JOURNAL.test(e)).sort()) {
    const file = path.join(stateDir, entry);
    let intent: PublishIntent;
    try {
      intent = parseIntent(parseJson(await fs.readFile(file, 'utf8')));
    } catch (err) {
      const aside = await setAside(file, now);
      out.warnings.push(
        `${file}: ${(err as Error).message}; kept as ${aside}. An interrupted update it described may be incomplete: ` +
          'the files on disk are used as they are (a key and certificate that do not match are renewed)',
      );
      continue;
    }
    try {
      out.warnings.push(...(await complete(intent, stateDir)));
    } catch (err) {
      if (!(err instanceof PublishBlockedError)) throw err;
      out.blocked.push(err);
      for (const m of intent.moves) out.keep.add(m.from);
      continue;
    }
    await installed(intent.owed);
    out.completed.push(...intent.moves.map((m) => m.to));
    await fs.rm(file, { force: true });
  }
  return out;
}

/** A journal as written; a staged file must be a hidden sibling of its target. */
function parseIntent(data: unknown): PublishIntent {
  const j = data as { version?: unknown; moves?: unknown; links?: unknown; owed?: unknown };
  if (typeof j !== 'object' || j === null || !Array.isArray(j.moves) || j.moves.length === 0) throw new Error('not a publish journal (no moves)');
  const moves = j.moves.map((raw: unknown) => {
    const m = raw as Move;
    const ok = typeof m?.from === 'string' && typeof m.to === 'string' && path.isAbsolute(m.to)
      && path.dirname(m.from) === path.dirname(m.to) && path.basename(m.from).startsWith(`.${path.basename(m.to)}.tmp-`);
    if (!ok) throw new Error('not a publish journal (a move is not from a staged file beside its target)');
    return { from: m.from, to: m.to };
  });
  const links = (Array.isArray(j.links) ? j.links : []).map((raw: unknown) => {
    const l = raw as Link;
    if (typeof l?.path !== 'string' || !path.isAbsolute(l.path) || typeof l.target !== 'string' || l.target.includes('/')) {
      throw new Error('not a publish journal (a link is malformed)');
    }
    return { path: l.path, target: l.target };
  });
  return { moves, links, owed: j.owed ?? null };
}

/** JSON.parse without V8's message, which quotes the damaged text (across lines) into the warning. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
}
