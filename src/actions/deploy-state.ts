import path from 'node:path';
import type { ChangedCert } from '../plan/action-types.ts';
import type { CertGroup } from '../plan/deployments.ts';
import { assertSafeName } from '../plan/placeholders.ts';
import { MODE_STATE, readIfExists, writeAtomic } from '../store/atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC } from '../store/dirs.ts';
import { setAside } from '../store/set-aside.ts';

/** The deploy state's file name inside the state dir (`<configDir>/<mode>/.certfleet/`). */
export const DEPLOY_STATE_FILE = 'deploy.json';

const VERSION = 1;

/** A section that still owes a deployment of these certificates. */
export interface PendingDeployment extends CertGroup {
  /** When it was first recorded (ISO 8601). */
  since: string;
  /** Attempts that failed so far. */
  attempts: number;
  /** When the last attempt failed (ISO 8601), or null. */
  lastFailure: string | null;
  /**
   * An attempt that started and has not been settled: its commands leave exit-status markers
   * (see deploy-attempts.ts), so a run that died during it is settled by what they say.
   */
  attempt?: DeployAttempt;
}

/** A deployment started: which certificates it covers and how many commands it runs. */
export interface DeployAttempt {
  id: string;
  certPaths: string[];
  commands: number;
}

/** How one section's deployment went, for {@link settlePending}. */
export interface DeployOutcome {
  section: string;
  ok: boolean;
  /** The certificates the attempt deployed (by `certPath`); only these are settled on success. */
  certPaths: readonly string[];
}

/**
 * Adds `groups` to `pending` (pure): a section already pending gains the new certificates
 * (one entry per `certPath`; a newer record of the same path replaces the older), a new section
 * is appended. Order is first-recorded.
 */
export function mergePending(pending: readonly PendingDeployment[], groups: readonly CertGroup[], now: Date): PendingDeployment[] {
  const next = pending.map((entry) => ({ ...entry, certs: [...entry.certs] }));
  for (const group of groups) {
    let entry = next.find((e) => e.section === group.section);
    if (!entry) next.push((entry = { section: group.section, certs: [], since: now.toISOString(), attempts: 0, lastFailure: null }));
    for (const cert of group.certs) {
      const at = entry.certs.findIndex((c) => c.certPath === cert.certPath);
      if (at >= 0) entry.certs[at] = cert;
      else entry.certs.push(cert);
    }
  }
  return next;
}

/**
 * Applies an outcome (pure). Success removes the deployed certificates from the section's entry
 * and the entry once it is empty (a certificate recorded after the attempt was built stays
 * owed). Failure keeps everything and counts the attempt.
 */
export function settlePending(pending: readonly PendingDeployment[], outcome: DeployOutcome, now: Date): PendingDeployment[] {
  const done = new Set(outcome.certPaths);
  return pending.flatMap((entry) => {
    if (entry.section !== outcome.section) return [entry];
    const { attempt: _, ...rest } = entry;
    if (!outcome.ok) return [{ ...rest, attempts: entry.attempts + 1, lastFailure: now.toISOString() }];
    const certs = entry.certs.filter((cert) => !done.has(cert.certPath));
    return certs.length === 0 ? [] : [{ ...rest, certs }];
  });
}

/**
 * Deployments owed, kept in `<stateDir>/deploy.json` (written atomically) so that a deployment
 * that failed, or never ran because certfleet crashed after publishing a certificate, is retried
 * by the next run although the certificate is fresh by then, until it succeeds; and so that a
 * success is never repeated. Delivery is at least once: a crash after a section's commands
 * succeeded but before {@link DeployState.settle} runs them again next time.
 *
 * Use under the run lock: `load` at the start; `record` right after publishing each certificate,
 * before any action runs (the pending groups of that certificate alone, from `groupBySection`);
 * after all requests, deploy `pending()` (new and old alike) and `settle` each section as soon
 * as it is done. Calls are applied and written in call order.
 */
export class DeployState {
  private queue: Promise<void> = Promise.resolve();
  private written: string;

  private constructor(readonly file: string, private entries: PendingDeployment[]) {
    this.written = serialise(entries);
  }

  /**
   * Reads `<stateDir>/deploy.json`; a missing file is no pending deployment. A malformed file
   * never stops a run: it is reported through `warn`, naming the file and what was lost, and
   * (with `repair`, under the run lock) set aside as `deploy.json.damaged-<time>` so the next
   * write starts afresh; without `repair` (plan, dry run) nothing is renamed.
   */
  static async load(stateDir: string, opts: { warn?: (message: string) => void; repair?: boolean; now?: Date } = {}): Promise<DeployState> {
    const file = path.join(stateDir, DEPLOY_STATE_FILE);
    const text = await readIfExists(file);
    if (text === null) return new DeployState(file, []);
    try {
      return new DeployState(file, parseState(parseJson(text)));
    } catch (err) {
      const aside = opts.repair ? await setAside(file, opts.now ?? new Date()) : null;
      opts.warn?.(
        `${file}: ${(err as Error).message}${aside ? `; kept as ${aside}` : ''}. The deployments it still owed are forgotten: ` +
          'if a certificate was renewed lately, run its upload and update commands by hand',
      );
      const state = new DeployState(file, []);
      if (!aside) state.written = '';
      return state;
    }
  }

  /** The sections owed a deployment, first-recorded first (a copy). */
  pending(): PendingDeployment[] {
    return this.entries.map((entry) => ({ ...entry, certs: [...entry.certs] }));
  }

  /** Records `groups` as owed ({@link mergePending}) and writes the file. Rejects if the write fails. */
  record(groups: readonly CertGroup[], now: Date): Promise<void> {
    return this.update((entries) => mergePending(entries, groups, now));
  }

  /**
   * Marks the start of a section's deployment (durably, before its first command), so a run that
   * dies during it is settled by its commands' markers instead of repeated blindly.
   */
  begin(section: string, attempt: DeployAttempt): Promise<void> {
    return this.update((entries) => entries.map((e) => (e.section === section ? { ...e, attempt } : e)));
  }

  /** Forgets an unfinished attempt (its commands did not all run): the section is owed as before. */
  abandon(section: string): Promise<void> {
    return this.update((entries) => entries.map((e) => {
      if (e.section !== section) return e;
      const { attempt: _, ...rest } = e;
      return rest;
    }));
  }

  /** Applies `outcome` ({@link settlePending}) and writes the file. Rejects if the write fails. */
  settle(outcome: DeployOutcome, now: Date): Promise<void> {
    return this.update((entries) => settlePending(entries, outcome, now));
  }

  private update(change: (entries: PendingDeployment[]) => PendingDeployment[]): Promise<void> {
    const run = this.queue.then(async () => {
      // Kept in memory even if the write fails, so this run still deploys it and a later write
      // of this run can still persist it.
      this.entries = change(this.entries);
      const text = serialise(this.entries);
      if (text === this.written) return;
      await ensureDir(path.dirname(this.file), MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
      await writeAtomic(this.file, text, MODE_STATE);
      this.written = text;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

function serialise(entries: readonly PendingDeployment[]): string {
  return `${JSON.stringify({ version: VERSION, pending: entries }, null, 2)}\n`;
}

function parseState(data: unknown): PendingDeployment[] {
  const state = data as { version?: unknown; pending?: unknown };
  if (typeof state !== 'object' || state === null || state.version !== VERSION) throw new Error(`not a version ${VERSION} deploy state`);
  if (!Array.isArray(state.pending)) throw new Error('"pending" must be an array');
  return state.pending.map((raw: unknown, index) => {
    const entry = raw as Record<string, unknown>;
    const where = `pending[${index}]`;
    if (typeof entry?.section !== 'string' || typeof entry.since !== 'string' || typeof entry.attempts !== 'number'
      || !(entry.lastFailure === null || typeof entry.lastFailure === 'string') || !Array.isArray(entry.certs)) {
      throw new Error(`${where}: needs section, since, attempts, lastFailure and certs`);
    }
    const certs = entry.certs.map((cert: unknown, i) => parseCert(cert, `${where}.certs[${i}]`));
    const attempt = parseAttempt(entry.attempt, where);
    return { section: entry.section, since: entry.since, attempts: entry.attempts, lastFailure: entry.lastFailure, certs, ...(attempt ? { attempt } : {}) };
  });
}

function parseAttempt(raw: unknown, where: string): DeployAttempt | null {
  if (raw === undefined) return null;
  const a = raw as Record<string, unknown>;
  if (typeof a?.id !== 'string' || !/^[0-9a-f]{16}$/.test(a.id) || typeof a.commands !== 'number' || !Array.isArray(a.certPaths)
    || !a.certPaths.every((p) => typeof p === 'string')) {
    throw new Error(`${where}.attempt: needs id, commands and certPaths`);
  }
  return { id: a.id, commands: a.commands, certPaths: a.certPaths as string[] };
}

/**
 * The owed groups a publish journal carries (see store/publish.ts), checked as strictly as the
 * state file. Throws, naming what is wrong.
 */
export function parseOwedGroups(raw: unknown): CertGroup[] {
  if (!Array.isArray(raw)) throw new Error('owed deployments must be an array');
  return raw.map((g: unknown, index) => {
    const group = g as Record<string, unknown>;
    if (typeof group?.section !== 'string' || !Array.isArray(group.certs)) throw new Error(`owed[${index}]: needs section and certs`);
    return { section: group.section, certs: group.certs.map((c: unknown, i) => parseCert(c, `owed[${index}].certs[${i}]`)) };
  });
}

function parseCert(raw: unknown, where: string): ChangedCert {
  const cert = raw as Record<string, unknown>;
  const names = cert?.names;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) throw new Error(`${where}: needs names`);
  if (cert.keyType !== 'rsa' && cert.keyType !== 'ec') throw new Error(`${where}: keyType must be rsa or ec`);
  if (typeof cert.certPath !== 'string' || !path.isAbsolute(cert.certPath) || typeof cert.keyPath !== 'string' || !path.isAbsolute(cert.keyPath)) {
    throw new Error(`${where}: needs absolute certPath and keyPath`);
  }
  for (const name of names as string[]) assertSafeName(name);
  return { names: names as string[], keyType: cert.keyType, certPath: cert.certPath, keyPath: cert.keyPath };
}

/** JSON.parse without V8's message, which quotes the damaged text (across lines) into the warning. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
}
