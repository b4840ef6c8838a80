import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { MODE_STATE, writeAtomic } from './atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from './dirs.ts';

/** Cached facts of one file, valid while the file's signature is unchanged. */
interface Entry {
  sig: string;
  facts: unknown;
}

// 3: certificate facts carry the ARI CertID and the verdict on the whole chain (crypto/chain.ts).
const VERSION = 3;

function isEntry(e: unknown): e is Entry {
  const x = e as Entry | null;
  return typeof x === 'object' && x !== null && typeof x.sig === 'string' && typeof x.facts === 'object' && x.facts !== null;
}

/** Null when `data` is a cache of this version with well-formed entries, else why it is not used. */
function cacheProblem(data: unknown): string | null {
  const d = data as { version?: unknown; entries?: unknown } | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'not a JSON object';
  if (d.version !== VERSION) return null; // another version: dropped silently, not damage
  if (typeof d.entries !== 'object' || d.entries === null || Array.isArray(d.entries)) return '"entries" is not an object';
  const bad = Object.keys(d.entries).find((k) => !isEntry((d.entries as Record<string, unknown>)[k]));
  return bad === undefined ? null : `entry ${JSON.stringify(bad)} has the wrong shape`;
}

/**
 * What certfleet learned from parsing key and certificate files, keyed by path and a file
 * signature (inode, size, mtime, ctime). Parsing a key costs about half a millisecond in
 * OpenSSL 3; with thousands of certificates, the nightly no-op must not parse what did not
 * change. Every write certfleet makes is a rename, which changes the inode, so a stale entry
 * cannot survive an update; an edit in place changes mtime/ctime.
 */
export class FactsCache {
  private readonly used = new Map<string, Entry>();
  private changed = false;
  /** Why the cache file was discarded (garbage or a wrong shape), or null; for the run to mention. */
  discarded: string | null = null;

  /** Entries are keyed relative to this directory (the mode dir), which keeps the file small. */
  private readonly root: string;

  private constructor(
    private readonly file: string | null,
    private readonly entries: Record<string, Entry>,
  ) {
    this.root = file ? path.dirname(path.dirname(file)) + path.sep : '';
  }

  private key(file: string): string {
    return this.root && file.startsWith(this.root) ? file.slice(this.root.length) : file;
  }

  /** The cache file of a mode's state dir. */
  static fileIn(stateDir: string): string {
    return path.join(stateDir, 'facts.json');
  }

  /**
   * Reads the cache file. A missing one, one of another version, or a damaged one (not JSON, or
   * any entry of the wrong shape) is an empty cache: it is only a cache, and the next save
   * replaces it. {@link discarded} says why a damaged one was dropped.
   */
  static async load(file: string | null): Promise<FactsCache> {
    if (!file) return new FactsCache(null, {});
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return new FactsCache(file, {});
    }
    let data: unknown;
    let problem: string | null;
    try {
      data = JSON.parse(text);
      problem = cacheProblem(data);
    } catch {
      problem = 'not JSON';
    }
    const d = data as { version?: number; entries?: Record<string, Entry> };
    const cache = new FactsCache(file, !problem && d.version === VERSION ? (d.entries as Record<string, Entry>) : {});
    if (problem) {
      cache.discarded = problem;
      cache.changed = true;
    }
    return cache;
  }

  /** The signature of a file as `stat` saw it. */
  static signature(st: Stats): string {
    return `${st.ino.toString(36)}.${st.size.toString(36)}.${st.mtimeMs.toString(36)}.${st.ctimeMs.toString(36)}.${st.dev.toString(36)}`;
  }

  /**
   * Facts stored for `path` under this signature, or undefined. Facts that fail `valid` (a cache
   * edited by hand, or written by another build) are never returned: the caller parses again.
   */
  get<T>(file: string, sig: string, valid: (facts: unknown) => facts is T): T | undefined {
    const k = this.key(file);
    const e = Object.hasOwn(this.entries, k) ? this.entries[k] : undefined;
    if (!e || e.sig !== sig || !valid(e.facts)) return undefined;
    this.used.set(k, e);
    return e.facts;
  }

  /** Records facts for `path`. */
  set(file: string, sig: string, facts: unknown): void {
    this.used.set(this.key(file), { sig, facts });
    this.changed = true;
  }

  /**
   * Writes the entries used in this run (dropping those of files no longer looked at), only when
   * something changed, so a no-op run writes nothing. Call under the run lock.
   */
  async save(): Promise<void> {
    const dropped = Object.keys(this.entries).some((k) => !this.used.has(k));
    if (!this.file || (!this.changed && !dropped)) return;
    await ensureDir(path.dirname(this.file), MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
    await writeAtomic(this.file, JSON.stringify({ version: VERSION, entries: Object.fromEntries(this.used) }), MODE_STATE);
  }
}
