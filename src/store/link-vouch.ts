import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { FactsCache } from './facts-cache.ts';

/** What the facts cache keeps for the links: a digest of the set of links found sound. */
interface LinksFacts {
  links: string;
}

function isLinksFacts(f: unknown): f is LinksFacts {
  return typeof (f as LinksFacts).links === 'string';
}

/**
 * A directory changed this recently may change again within the same timestamp tick without its
 * signature showing it (filesystem clocks are coarse); such a state is never vouched for.
 */
const SETTLE_MS = 3000;

/** Whether the facts cache vouches for every per-name link, and how to record that it may. */
export interface LinkVouch {
  /** True when every link was found sound on an earlier run and neither directory changed since. */
  vouched: boolean;
  /** Records that every link was just found sound (call only then); a no-op when already vouched. */
  remember(): void;
}

/**
 * Vouching for all per-name links at once through their directories. A link cannot change in
 * place: re-pointing, removing or replacing one is a change to its directory's entries, which
 * changes the directory's signature (inode, mtime, ctime). So while `dirs` keep the signature they
 * had when every link of `links` was read and found sound, they are still sound, and a no-op run
 * makes two stats instead of one readlink per link. Which links there must be is part of what
 * is vouched for: `basis` is everything they derive from besides the directories' entries (the
 * domains lines in order, the mode and the tags; see layout.ts and link-owners.ts), which is
 * far cheaper to digest than the thousands of link paths themselves. Reads the signatures now, before any link is read.
 */
export function vouchForLinks(cache: FactsCache, dirs: readonly string[], basis: string, now: number): LinkVouch {
  const stats = dirs.map((d) => statSync(d, { throwIfNoEntry: false }));
  if (stats.some((s) => !s)) return { vouched: false, remember: () => {} };
  const sig = stats.map((s) => FactsCache.signature(s!)).join('|');
  const digest = createHash('sha256').update(basis).digest('hex');
  const key = path.join(path.dirname(dirs[0]), '.links');
  const vouched = cache.get(key, sig, isLinksFacts)?.links === digest;
  return {
    vouched,
    remember: () => {
      if (!vouched && stats.every((s) => s!.mtimeMs < now - SETTLE_MS)) cache.set(key, sig, { links: digest });
    },
  };
}
