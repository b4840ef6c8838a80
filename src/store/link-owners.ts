import type { CertPaths } from './layout.ts';

/**
 * Which certificate owns each per-name link path, so that two lines never fight over one path
 * and no link ever replaces a line's own file. Returns `all` in the same order, each with only
 * the links it owns. A path is owned by, in order: the certificate whose own key or certificate
 * it is (a name that is a line of its own keeps its files: lematt.md §9 A6), else the first
 * certificate, in domains order, whose line lists the name. Pure.
 */
export function ownLinks(all: readonly CertPaths[]): CertPaths[] {
  const ownFiles = new Set<string>();
  for (const p of all) {
    ownFiles.add(p.key);
    ownFiles.add(p.cert);
  }
  const claimed = new Set<string>();
  return all.map((p) => {
    const links = p.links.filter((l) => {
      if (ownFiles.has(l.path) || claimed.has(l.path)) return false;
      claimed.add(l.path);
      return true;
    });
    return links.length === p.links.length ? p : { ...p, links };
  });
}
