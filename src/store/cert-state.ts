import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from './atomic.ts';

/** How a certificate was issued, as far as renewal cares (`replaces` needs the same directory and account). */
export interface IssuedRecord {
  /** ARI CertID of the certificate issued; null when it has none. */
  certId: string | null;
  directory: string;
  /** JWK thumbprint of the account key it was ordered with. */
  account: string;
  profile: string | null;
  at: string;
}

/** The last renewalInfo answer (or error) for one CertID (RFC 9773 §4.2, §4.3). */
export interface AriRecord {
  certId: string;
  /** When to ask again: the answer's Retry-After (clamped), or 6 hours after an error. */
  nextPoll: string;
  /** The suggested window and the moment chosen inside it; kept across errors. */
  window: { start: string; end: string; renewAt: string; explanationURL: string | null } | null;
  /** What went wrong at the last poll, when it failed (never shown under --cron). */
  error: string | null;
}

/** Consecutive failed orders of one certificate, and the back-off they earned (plan/backoff.ts). */
export interface FailureRecord {
  /** The config and line the failures happened under; another one clears the record. */
  context: string;
  count: number;
  first: string;
  last: string;
  error: string;
  errorType: string;
  /** No new order before this moment (unless `--retry`). */
  until: string;
  /** A rateLimited answer's Retry-After: honoured even with `--retry` and `--force`. */
  rateLimitedUntil: string | null;
}

/** The durable record of one certificate (one domains line and key type). */
export interface CertRecord {
  issued?: IssuedRecord;
  ari?: AriRecord;
  failure?: FailureRecord;
}

/** Orders and certificates counted against the CA's limits (plan/budget.ts). */
export interface Ledger {
  /** New orders counted against the per-account limit, with the account's thumbprint. */
  orders: { at: string; account: string }[];
  /** New certificates counted against the per-registered-domain limit. */
  certs: { at: string; domains: string[] }[];
}

const VERSION = 1;

/**
 * Per-certificate state that must outlive a run: `<mode>/.certfleet/state.json` (mode 0600),
 * keyed by the certificate file's name. Apart from the facts cache, which may be dropped at
 * any time, this holds what only the CA said or what only past runs saw: ARI answers, how each
 * certificate was issued, its failures, and the rate ledger. Losing it costs a re-poll and the
 * failure memory, never a wrong decision: every field is checked against the certificate on
 * disk before it is used. Written atomically, under the run lock.
 */
export class CertStateStore {
  private dirty = false;

  private constructor(
    private readonly file: string | null,
    private readonly records: Record<string, CertRecord>,
    readonly ledger: Ledger,
    /** Why the file on disk could not be used, when it could not (a warning for the run to show). */
    readonly problem: string | null,
  ) {}

  /** The state file of a mode's state dir. */
  static fileIn(stateDir: string): string {
    return path.join(stateDir, 'state.json');
  }

  /** An empty store that is never written (for `plan --at` and tests). */
  static empty(): CertStateStore {
    return new CertStateStore(null, {}, { orders: [], certs: [] }, null);
  }

  /**
   * Reads the state file. A missing file is an empty store; a damaged one is also read as empty,
   * with `problem` saying so (it is replaced at the next save).
   */
  static async load(file: string): Promise<CertStateStore> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return new CertStateStore(file, {}, { orders: [], certs: [] }, code === 'ENOENT' ? null : `${file}: cannot read (${code}); starting afresh`);
    }
    try {
      const data = JSON.parse(text) as { version?: unknown; certs?: unknown; ledger?: Partial<Ledger> };
      if (data.version !== VERSION || typeof data.certs !== 'object' || data.certs === null) throw new Error('not a certfleet state file');
      const ledger = {
        orders: Array.isArray(data.ledger?.orders) ? data.ledger.orders.filter((o) => typeof o?.at === 'string') : [],
        certs: Array.isArray(data.ledger?.certs) ? data.ledger.certs.filter((c) => typeof c?.at === 'string' && Array.isArray(c.domains)) : [],
      };
      return new CertStateStore(file, sanitize(data.certs as Record<string, unknown>), ledger, null);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return new CertStateStore(file, {}, { orders: [], certs: [] }, `${file}: ${why}; ARI answers and failure memory start afresh`);
    }
  }

  /** The record of one certificate (empty when none). */
  get(key: string): CertRecord {
    return this.records[key] ?? {};
  }

  /** Replaces the record of one certificate. */
  set(key: string, record: CertRecord): void {
    this.records[key] = record;
    this.dirty = true;
  }

  /** Marks the ledger changed (after pushing to it). */
  touchLedger(): void {
    this.dirty = true;
  }

  /**
   * Writes the store when something changed, keeping only the records of `keep` (the
   * certificates the config still names; null keeps all) and ledger entries newer than `since`.
   */
  async save(keep: ReadonlySet<string> | null, since: Date): Promise<void> {
    const stale = keep ? Object.keys(this.records).filter((k) => !keep.has(k)) : [];
    if (!this.file || (!this.dirty && stale.length === 0)) return;
    for (const k of stale) delete this.records[k];
    const cut = since.toISOString();
    this.ledger.orders = this.ledger.orders.filter((o) => o.at >= cut);
    this.ledger.certs = this.ledger.certs.filter((c) => c.at >= cut);
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeAtomic(this.file, JSON.stringify({ version: VERSION, certs: this.records, ledger: this.ledger }), 0o600);
    this.dirty = false;
  }
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** Drops parts of records whose shape is wrong (a hand-edited or damaged file), keeping the rest. */
function sanitize(raw: Record<string, unknown>): Record<string, CertRecord> {
  const out: Record<string, CertRecord> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'object' || value === null) continue;
    const r = value as Record<string, Record<string, unknown> | undefined>;
    const record: CertRecord = {};
    if (r.issued && isText(r.issued.directory) && isText(r.issued.account) && isText(r.issued.at)) record.issued = r.issued as unknown as IssuedRecord;
    if (r.ari && isText(r.ari.certId) && isText(r.ari.nextPoll)) {
      const w = r.ari.window as Record<string, unknown> | null | undefined;
      const window = w && isText(w.start) && isText(w.end) && isText(w.renewAt) ? (w as unknown as AriRecord['window']) : null;
      record.ari = { certId: r.ari.certId, nextPoll: r.ari.nextPoll, window, error: isText(r.ari.error) ? r.ari.error : null };
    }
    const f = r.failure;
    if (f && isText(f.context) && typeof f.count === 'number' && isText(f.until) && isText(f.last)) record.failure = f as unknown as FailureRecord;
    out[key] = record;
  }
  return out;
}
