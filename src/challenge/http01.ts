import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomic, MODE_PUBLIC } from '../store/atomic.ts';
import type { ArtifactJournal } from './artifact-journal.ts';
import { isValidToken, type Solver } from './solver.ts';

/**
 * HTTP-01 through lematt's `challengeDropDir`: the user's web server serves that directory as
 * `/.well-known/acme-challenge/`. The token file holds the key authorization, world-readable so
 * the web server's user can read it, and is removed after validation whatever the outcome
 * (lematt left it behind on failure, lematt.md §9 A15).
 */
export function dropDirSolver(dropDir: string, journal?: ArtifactJournal): Solver {
  // Recorded before the file is written, forgotten after it is removed (see artifact-journal.ts).
  const recorded = new Map<string, string>();
  const file = (token: string) => {
    if (!isValidToken(token)) throw new Error(`http-01: refusing token that is not base64url: ${JSON.stringify(token.slice(0, 40))}`);
    return path.join(dropDir, token);
  };
  return {
    type: 'http-01',
    async present(_identifier, token, keyAuthorization) {
      if (journal && !recorded.has(token)) recorded.set(token, await journal.record({ type: 'http-01', file: file(token) }));
      await writeAtomic(file(token), keyAuthorization, MODE_PUBLIC);
    },
    async cleanup(_identifier, token) {
      await fs.rm(file(token), { force: true });
      const id = recorded.get(token);
      recorded.delete(token);
      if (id) await journal?.done(id);
    },
  };
}
