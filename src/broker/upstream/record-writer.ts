/**
 * The TXT records of one `[dns:*]` setup, written in batches: adds are queued until the batch
 * they belong to is flushed, then sent in one provider call (rfc2136: one UPDATE message per
 * zone); removals are queued and sent together a moment later. When a batched call fails, its
 * records are retried one by one, so that only the records that really fail fail (and with them
 * only their orders).
 */
import type { DnsRecordProvider, TxtRecord } from '../../dns/providers/provider.ts';
import { normalizeName } from '../../dns/names.ts';

/** Where a record stands. */
type RecordState = { kind: 'queued' } | { kind: 'written' } | { kind: 'failed'; error: Error };

/** The key of a record: its owner name and value. */
export function recordKey(fqdn: string, value: string): string {
  return `${normalizeName(fqdn)} ${value}`;
}

/** One setup's writer; see the file comment. */
export class RecordWriter {
  private readonly states = new Map<string, RecordState>();
  private adds: TxtRecord[] = [];
  private removals: TxtRecord[] = [];

  /**
   * @param provider resolves to the setup's provider (created on first use)
   * @param count called with the number of provider calls each write made
   */
  constructor(
    private readonly provider: () => Promise<DnsRecordProvider>,
    private readonly count: (calls: number) => void,
  ) {}

  /** Queues the record for the next `flushAdds`. */
  add(fqdn: string, value: string): void {
    const key = recordKey(fqdn, value);
    if (this.states.has(key)) return;
    this.states.set(key, { kind: 'queued' });
    this.adds.push({ fqdn, value });
  }

  /** Queues the record's removal for the next `flushRemovals`; one never written is just forgotten. */
  remove(fqdn: string, value: string): void {
    const key = recordKey(fqdn, value);
    const state = this.states.get(key);
    this.states.delete(key);
    if (state?.kind === 'queued') {
      this.adds = this.adds.filter((r) => recordKey(r.fqdn, r.value) !== key);
      return;
    }
    this.removals.push({ fqdn, value });
  }

  /** The error of a record whose write failed; null when written; undefined when unknown or still queued. */
  outcome(fqdn: string, value: string): Error | null | undefined {
    const state = this.states.get(recordKey(fqdn, value));
    if (!state || state.kind === 'queued') return undefined;
    return state.kind === 'failed' ? state.error : null;
  }

  /** True when adds wait for a flush. */
  get hasAdds(): boolean {
    return this.adds.length > 0;
  }

  /** True when removals wait for a flush. */
  get hasRemovals(): boolean {
    return this.removals.length > 0;
  }

  /** Writes every queued add; each record's outcome is then known. Never throws. */
  async flushAdds(): Promise<void> {
    const batch = this.adds;
    this.adds = [];
    if (batch.length === 0) return;
    const failures = await this.write(batch, 'present');
    for (const r of batch) {
      const key = recordKey(r.fqdn, r.value);
      // Removed while being written: the removal queued meanwhile takes it away again.
      if (!this.states.has(key)) continue;
      const error = failures.get(key);
      this.states.set(key, error ? { kind: 'failed', error } : { kind: 'written' });
    }
  }

  /** Removes every queued record; returns the failures (the records may stay behind). Never throws. */
  async flushRemovals(): Promise<Error[]> {
    const batch = this.removals;
    this.removals = [];
    if (batch.length === 0) return [];
    return [...(await this.write(batch, 'cleanup')).values()];
  }

  /** One batched call, or one call per record when the provider has none or the batch failed. */
  private async write(batch: TxtRecord[], action: 'present' | 'cleanup'): Promise<Map<string, Error>> {
    const failures = new Map<string, Error>();
    let provider: DnsRecordProvider;
    try {
      provider = await this.provider();
    } catch (e) {
      for (const r of batch) failures.set(recordKey(r.fqdn, r.value), e as Error);
      return failures;
    }
    const many = action === 'present' ? provider.presentMany : provider.cleanupMany;
    if (many && batch.length > 1) {
      this.count(1);
      try {
        await many.call(provider, batch);
        return failures;
      } catch {
        // Which record the backend refused is not known: one by one below.
      }
    }
    for (const r of batch) {
      this.count(1);
      try {
        await provider[action](r.fqdn, r.value);
      } catch (e) {
        failures.set(recordKey(r.fqdn, r.value), e as Error);
      }
    }
    return failures;
  }
}
