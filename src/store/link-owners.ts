import type { CertPaths, KeyType } from './layout.ts';

/**
 * Which certificate owns each per-name link path, so that two lines never fight over one path
 * and no link ever replaces a line's own file. Returns the paths of `all` in the same order, each
 * with only the links it owns. A path is owned by, in order: the certificate whose own key or
 * certificate it is (a name that is a line of its own keeps its files: lematt.md §9 A6), else the
 * first certificate, in domains order, whose line lists the name. Pure.
 *
 * Paths are compared by key type and stem, not whole: within one mode and key type a file name
 * is its stem plus a fixed suffix, and short keys keep this cheap on the hourly no-op.
 */
export function ownLinks(all: readonly { keyType: KeyType; paths: CertPaths }[]): CertPaths[] {
  const ownFiles = new Set<string>();
  for (const { keyType, paths } of all) ownFiles.add(`${keyType} ${paths.base}`);
  const claimed = new Map<string, CertPaths>();
  return all.map(({ keyType, paths }) => {
    if (paths.links.length === 0) return paths;
    const links = paths.links.filter((l) => {
      const k = `${keyType} ${l.stem}`;
      if (ownFiles.has(k)) return false;
      // The key link and the certificate link of a name go to the same owner.
      const owner = claimed.get(k);
      if (owner === undefined) claimed.set(k, paths);
      return owner === undefined || owner === paths;
    });
    return links.length === paths.links.length ? paths : { ...paths, links };
  });
}
