import path from 'node:path';

/** Which ACME environment a run targets; selects `<configDir>/<mode>/` and the `.test` marker. */
export type Mode = 'prod' | 'test';
/** The two certificates lematt keeps per domains line. */
export type KeyType = 'rsa' | 'ec';

/** Where one (line, key type) certificate lives, with lematt's exact names. */
export interface CertPaths {
  /** `<cn>` or `<cn>_<san>_<san>…`: the shared stem of key, CSR and certificate. */
  base: string;
  key: string;
  csr: string;
  cert: string;
  /**
   * Per-name relative symlinks (multi-name lines only, CN included): link path → target basename;
   * `stem` is the name's part of the link's file name (a line whose base is that stem owns the path).
   */
  links: { path: string; target: string; stem: string }[];
}

/**
 * lematt's SAN sort key: labels reversed, the last label (TLD) dropped.
 * `mail.hello.there.com` → `['there', 'hello', 'mail']`.
 */
function sortKey(name: string): string[] {
  return name.split('.').reverse().slice(1);
}

function compareKeys(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The SANs (names after the first token) in lematt's order: deduplicated, sorted by
 * {@link sortKey}. lematt left ties (e.g. `example.org` vs `example.net`) to set order, which
 * changed between runs (lematt.md §9 A7); we break ties by the full name, so the order is stable.
 */
export function sortSans(names: readonly string[]): string[] {
  // Keys computed once per name, not per comparison: this runs for every line on every run.
  const keyed = [...new Set(names.slice(1))].map((name) => ({ name, key: sortKey(name) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return keyed.map((k) => k.name);
}

/** File-name form of a name: a wildcard's `*` becomes `_`. */
export function fileSafe(name: string): string {
  return name.replace(/\*/g, '_');
}

/**
 * All base names lematt could have written for this line: the stable order first, then every
 * other order of names whose sort keys tie (lematt's set order was random). At most `limit`.
 */
export function candidateBases(names: readonly string[], limit = 24): string[] {
  const cn = names[0];
  if (names.length === 1) return [fileSafe(cn)];
  const sans = sortSans(names);
  const groups: string[][] = [];
  for (const san of sans) {
    const last = groups[groups.length - 1];
    if (last && compareKeys(sortKey(last[0]), sortKey(san)) === 0) last.push(san);
    else groups.push([san]);
  }
  const stable = [cn, ...sans].map(fileSafe).join('_');
  if (limit <= 1 || groups.every((g) => g.length === 1)) return [stable];
  let orders: string[][] = [[]];
  for (const group of groups) {
    const perms = permutations(group, limit);
    orders = orders.flatMap((prefix) => perms.map((p) => [...prefix, ...p])).slice(0, limit);
  }
  return orders.map((order) => [cn, ...order].map(fileSafe).join('_'));
}

function permutations(items: string[], limit: number): string[][] {
  if (items.length <= 1) return [items];
  const out: string[][] = [];
  for (let i = 0; i < items.length && out.length < limit; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest, limit)) {
      if (out.length >= limit) break;
      out.push([items[i], ...p]);
    }
  }
  return out;
}

/** Inputs that shape file names: the tags from lematt.conf and the mode. */
export interface NamingOptions {
  configDir: string;
  mode: Mode;
  rsaTag: string;
  curveTag: string;
}

/** `<configDir>/<mode>/{key,csr,cert}` */
export function modeDirs(opts: NamingOptions): { key: string; csr: string; cert: string; state: string } {
  const root = path.join(opts.configDir, opts.mode);
  return {
    key: path.join(root, 'key'),
    csr: path.join(root, 'csr'),
    cert: path.join(root, 'cert'),
    state: path.join(root, '.certfleet'),
  };
}

/**
 * lematt's paths for one certificate (lematt.md §4):
 * `<mode>/key/<base>-key.<tag><t>.pem`, `<mode>/csr/<base>-csr.<tag><t>.csr`,
 * `<mode>/cert/<base>-cert-combined.<tag><t>.pem`, where `<t>` is `.test` in test mode, plus a
 * per-name link for each name of a multi-name line.
 */
export function certPaths(names: readonly string[], keyType: KeyType, opts: NamingOptions, base?: string): CertPaths {
  const dirs = modeDirs(opts);
  const b = base ?? candidateBases(names, 1)[0];
  const suffix = `.${keyType === 'rsa' ? opts.rsaTag : opts.curveTag}${opts.mode === 'test' ? '.test' : ''}`;
  const keyName = (stem: string) => `${stem}-key${suffix}.pem`;
  const certName = (stem: string) => `${stem}-cert-combined${suffix}.pem`;
  const links: CertPaths['links'] = [];
  if (names.length > 1) {
    for (const name of new Set(names)) {
      const stem = fileSafe(name);
      links.push({ path: `${dirs.key}${path.sep}${keyName(stem)}`, target: keyName(b), stem });
      links.push({ path: `${dirs.cert}${path.sep}${certName(stem)}`, target: certName(b), stem });
    }
  }
  return {
    base: b,
    key: `${dirs.key}${path.sep}${keyName(b)}`,
    csr: `${dirs.csr}${path.sep}${b}-csr${suffix}.csr`,
    cert: `${dirs.cert}${path.sep}${certName(b)}`,
    links,
  };
}

/** The distinct names of a line as they go to the CA (case-insensitively deduplicated, CN first). */
export function identifiers(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const k = n.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(k);
    }
  }
  return out;
}
