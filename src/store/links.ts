import { existsSync, lstatSync, promises as fs, readlinkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LinkFinding } from './observed.ts';
import { linkAtomic } from './atomic.ts';
import type { CertPaths } from './layout.ts';

/** A link to make: its path and the basename it points to (see layout.ts). */
export type Link = Pick<CertPaths['links'][number], 'path' | 'target'>;

/** What sits at a link path, as lstat/readlink see it. */
export type LinkEntry = { kind: 'missing' } | { kind: 'symlink'; points: string } | { kind: 'file' } | { kind: 'other'; what: string };

/**
 * How the entry at a link path differs from a relative link to `target`, or null when it is that
 * link (whether the target exists is the key's or certificate's own check). Pure.
 */
export function classifyLink(target: string, entry: LinkEntry): Pick<LinkFinding, 'found' | 'points'> | null {
  switch (entry.kind) {
    case 'symlink':
      return entry.points === target ? null : { found: 'elsewhere', points: entry.points };
    case 'missing':
      return { found: 'missing' };
    case 'file':
      return { found: 'file' };
    default:
      return { found: 'blocked', points: entry.what };
  }
}

/** Reads what sits at `file` without following it: one readlink for a link, the usual case. */
export function readLinkEntry(file: string): LinkEntry {
  try {
    return { kind: 'symlink', points: readlinkSync(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code !== 'EINVAL') return { kind: 'other', what: `unreadable (${code})` };
  }
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return { kind: 'missing' };
  if (st.isFile()) return { kind: 'file' };
  return { kind: 'other', what: st.isDirectory() ? 'a directory' : 'not a regular file' };
}

/** The links of `links` that are not as they must be. Synchronous: a readlink per link. */
export function inspectLinks(links: readonly Link[]): LinkFinding[] {
  const out: LinkFinding[] = [];
  for (const l of links) {
    const f = classifyLink(l.target, readLinkEntry(l.path));
    if (f) out.push({ path: l.path, target: l.target, ...f });
  }
  return out;
}

/** One line describing a finding, for plan and run output. */
export function describeLink(f: LinkFinding): string {
  const what = { missing: 'is missing', elsewhere: `points to ${f.points}`, file: 'is a stray file', blocked: `is ${f.points}` }[f.found];
  return `link ${f.path} ${what}; must point to ${f.target}`;
}

/** The directory stray files are moved to: the state dir, out of reach of users' `<name>*` globs. */
export function displacedDir(stateDir: string): string {
  return path.join(stateDir, 'displaced');
}

/**
 * Makes each of `links` a relative link to its target, as one certificate's owner (see
 * link-owners.ts): a missing link is made, a link to anything else re-pointed (atomically), and a
 * stray regular file moved to {@link displacedDir} first, never deleted. Leaves alone a link
 * whose target does not exist (it would dangle) and anything that is not a file or a link.
 * Returns what it changed (for the run summary) and what the user should know.
 */
export async function placeLinks(links: readonly Link[], stateDir: string): Promise<{ changes: string[]; warnings: string[] }> {
  const changes: string[] = [];
  const warnings: string[] = [];
  for (const l of links) {
    const finding = classifyLink(l.target, readLinkEntry(l.path));
    if (!finding) continue;
    if (finding.found === 'blocked') {
      warnings.push(`left ${l.path} alone: it is ${finding.points}, where a link to ${l.target} belongs; move it away`);
      continue;
    }
    if (!existsSync(path.join(path.dirname(l.path), l.target))) continue;
    let was = finding.found === 'missing' ? 'was missing' : `pointed to ${finding.points}`;
    if (finding.found === 'file') {
      const dir = displacedDir(stateDir);
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const aside = path.join(dir, `${path.basename(l.path)}.${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`);
      await fs.rename(l.path, aside);
      was = `was a stray file, moved to ${aside}`;
      warnings.push(`moved ${l.path} to ${aside}: no domains line has it as its own file, and a link to ${l.target} belongs there`);
    }
    if (await linkAtomic(l.path, l.target)) changes.push(`repaired link ${l.path} → ${l.target} (${was})`);
  }
  return { changes, warnings };
}
