import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { MODE_STATE, writeAtomic } from './atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from './dirs.ts';

/** Cached facts of one file, valid while the file's signature is unchanged. */
interface Entry {
  sig: string;
  facts: unknown;
}

// 3: certificate facts carry the ARI CertID.
const VERSION = 3;

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

  /** Reads the cache file; a missing or unreadable one is an empty cache (it is only a cache). */
  static async load(file: string | null): Promise<FactsCache> {
    if (!file) return new FactsCache(null, {});
    try {
      const data = JSON.parse(await fs.readFile(file, 'utf8')) as { version?: number; entries?: Record<string, Entry> };
      return new FactsCache(file, data.version === VERSION && data.entries ? data.entries : {});
    } catch {
      return new FactsCache(file, {});
    }
  }

  /** The signature of a file as `stat` saw it. */
  static signature(st: Stats): string {
    return `${st.ino.toString(36)}.${st.size.toString(36)}.${st.mtimeMs.toString(36)}.${st.ctimeMs.toString(36)}.${st.dev.toString(36)}`;
  }

  /** Facts stored for `path` under this signature, or undefined. */
  get<T>(file: string, sig: string): T | undefined {
    const k = this.key(file);
    const e = this.entries[k];
    if (!e || e.sig !== sig) return undefined;
    this.used.set(k, e);
    return e.facts as T;
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
