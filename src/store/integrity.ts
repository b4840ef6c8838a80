import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { Integrity, Observed } from './observed.ts';
import type { CertPaths } from './layout.ts';
import { inspectLinks } from './links.ts';

/** What a non-file at one of our paths is, or null when it is a file, a link or nothing. */
function nonFile(file: string): string | null {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st || st.isFile() || st.isSymbolicLink()) return null;
  return st.isDirectory() ? 'a directory' : 'not a regular file';
}

/**
 * The integrity facts of one certificate beyond what {@link Observed} key and cert say: the
 * chain verdict of the certificate file (`chain`, from its cached facts), the per-name links it
 * owns (one readlink each, never cached: they are what web servers open; only those whose target
 * is there and sound, the others are placed when it is written), and whether something
 * certfleet must not replace blocks its key, certificate or a link. The key and certificate are
 * lstat'ed only when they were unreadable, so a healthy store costs nothing more here. `inspect`
 * false skips the links (the facts cache vouches for them: link-vouch.ts).
 */
export function observeIntegrity(paths: CertPaths, obs: Observed, chain: string | null, inspect = true): Integrity {
  // The hourly no-op's path: nothing to read, so nothing to allocate either.
  if ((!inspect || paths.links.length === 0) && obs.key.state !== 'unreadable' && obs.cert.state !== 'unreadable') return { blocked: null, chain, links: [] };
  // A link to a file not (soundly) there yet is left to the issuance that writes it.
  const keyName = path.basename(paths.key);
  const links = (inspect ? inspectLinks(paths.links) : []).filter((l) => (l.target === keyName ? obs.key : obs.cert).state === 'ok' || l.found === 'blocked');
  const blocked: string[] = [];
  for (const [file, what, state] of [
    [paths.key, 'key', obs.key.state],
    [paths.cert, 'certificate', obs.cert.state],
  ] as const) {
    const found = state === 'unreadable' ? nonFile(file) : null;
    if (found) blocked.push(`${file} is ${found} where this line's ${what} belongs`);
  }
  for (const l of links) if (l.found === 'blocked') blocked.push(`${l.path} is ${l.points} where a link to ${l.target} belongs`);
  return {
    blocked: blocked.length ? `${blocked.join('; ')}: certfleet never removes it; move it away, then run again` : null,
    chain,
    links: links.filter((l) => l.found !== 'blocked'),
  };
}
