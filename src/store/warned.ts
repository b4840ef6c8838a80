import { createHash } from 'node:crypto';
import path from 'node:path';
import { MODE_STATE, readIfExists, writeAtomic } from './atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from './dirs.ts';

/** The file's name inside a mode's state dir (`<mode>/.certfleet/`). */
export const WARNED_FILE = 'warned.json';

const VERSION = 1;

/** A short, stable digest of one warning (its text and what it is about). */
export function warningId(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/**
 * Which warnings a mode's runs have already shown where cron mails them, so a warning that
 * would repeat every night is mailed once, and again only when what it says or what it is about
 * changes. Holds digests only (no names, no paths), mode 0600, written atomically. Use under
 * the run lock.
 */
export class WarnedRecord {
  private constructor(
    private readonly file: string,
    private readonly before: ReadonlySet<string>,
  ) {}

  /** Reads the record of `stateDir`; a missing or unreadable one is empty (the cost is one repeat). */
  static async load(stateDir: string): Promise<WarnedRecord> {
    const file = path.join(stateDir, WARNED_FILE);
    let ids: string[] = [];
    try {
      const data = JSON.parse((await readIfExists(file)) ?? '{}') as { version?: number; warned?: unknown };
      if (data.version === VERSION && Array.isArray(data.warned)) ids = data.warned.filter((x): x is string => typeof x === 'string');
    } catch {
      // Damaged: start again.
    }
    return new WarnedRecord(file, new Set(ids));
  }

  /** True when `id` was shown by an earlier run (and is still current). */
  has(id: string): boolean {
    return this.before.has(id);
  }

  /**
   * Makes `current` the record: warnings no longer given are forgotten (so they are shown again
   * should they come back). Writes nothing when the record is unchanged.
   */
  async save(current: ReadonlySet<string>): Promise<void> {
    const same = current.size === this.before.size && [...current].every((id) => this.before.has(id));
    if (same) return;
    await ensureDir(path.dirname(this.file), MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
    await writeAtomic(this.file, `${JSON.stringify({ version: VERSION, warned: [...current].sort() })}\n`, MODE_STATE);
  }
}
