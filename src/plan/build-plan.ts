import type { ActionsConfig } from '../config/actions.ts';
import type { DomainLine } from '../config/domains.ts';
import type { Settings } from '../config/settings.ts';
import type { KeySpec } from '../crypto/keys.ts';
import { describeLink } from '../store/links.ts';
import { identifiers, type CertPaths, type KeyType, type Mode, type NamingOptions } from '../store/layout.ts';
import { groupBySection } from './deployments.ts';
import type { CertRecord } from '../store/cert-state.ts';
import { ariWindowFor } from './ari-schedule.ts';
import type { LinkFinding } from '../store/observed.ts';
import { decideRenewal, type Decision, type Observed } from './renewal.ts';

/** One (domains line, key type) certificate and what to do about it. A plain value. */
export interface PlanItem {
  line: number;
  /** The line's names as written and expanded (file names follow these). */
  names: string[];
  /** What goes to the CA: lowercased, deduplicated, CN first. */
  identifiers: string[];
  keyType: KeyType;
  paths: CertPaths;
  decision: Decision;
  /** The certificate on disk, when readable: what renewal timing and the rate budget look at. */
  cert: { notBefore: Date; notAfter: Date; names: string[]; /** ARI CertID; null without an AKI. */ certId: string | null } | null;
  /** The CA's last renewalInfo answer for that very certificate, when ARI is on. */
  ari: AriView | null;
  /** What keeps a due item from ordering now (failure back-off, rate budget); null: nothing. */
  hold: Hold | null;
  /** Per-name links of this certificate to repair (without the CA) on this run. */
  repairs: LinkFinding[];
}

/** True when the item goes to the CA on this run (issue or renew). */
export function isDue(item: PlanItem): boolean {
  return item.decision.action === 'issue' || item.decision.action === 'renew';
}

/** The CA's window as plan and the run show it. */
export interface AriView {
  start: Date | null;
  end: Date | null;
  renewAt: Date | null;
  explanationURL: string | null;
  nextPoll: Date;
  /** The last poll's failure, if it failed (the last window still holds). */
  error: string | null;
}

/** Why a due item waits: its back-off after failures, or its slot in the CA's rate limits. */
export type Hold =
  | { kind: 'backoff'; until: Date; failures: number; lastError: string; rateLimited: boolean }
  | { kind: 'deferred'; until: Date };

/** Naming inputs of a mode from the settings. */
export function namingFor(settings: Settings, mode: Mode): NamingOptions {
  return { configDir: settings.configDir, mode, rsaTag: settings.rsaTag, curveTag: settings.curveTag };
}

/** The key the settings ask for, per key type. */
export function keySpecFor(settings: Settings, keyType: KeyType): KeySpec {
  return keyType === 'rsa' ? { kind: 'rsa', bits: settings.keyBitsRSA } : { kind: 'ec', curve: settings.curve };
}

/** The (line, key type) pairs of a config in lematt's order: line by line, RSA before EC. */
export function planTargets(domains: readonly DomainLine[]): { line: DomainLine; keyType: KeyType }[] {
  return domains.flatMap((line) => (['rsa', 'ec'] as const).map((keyType) => ({ line, keyType })));
}

/** The key of an item's record in the state store: its certificate file's name. */
export function stateKey(paths: CertPaths): string {
  return paths.cert.slice(paths.cert.lastIndexOf('/') + 1);
}

/**
 * Decides one item. Pure: observations, its durable record and `now` are passed in. With `ari`
 * on, a window the CA gave for the certificate on disk takes over its timing; `force` makes it due.
 */
export function planItem(line: DomainLine, keyType: KeyType, paths: CertPaths, obs: Observed, settings: Settings, now: Date, record: CertRecord = {}, ari = false, force = false): PlanItem {
  const ids = identifiers(line.names);
  const cert = obs.cert.state === 'ok' ? { notBefore: obs.cert.notBefore, notAfter: obs.cert.notAfter, names: obs.cert.names, certId: obs.cert.certId } : null;
  const certId = cert?.certId ?? null;
  const window = ari ? ariWindowFor(record.ari, certId) : null;
  const r = ari && certId && record.ari?.certId === certId ? record.ari : null;
  const view: AriView | null = r
    ? { start: window?.start ?? null, end: window?.end ?? null, renewAt: window?.renewAt ?? null, explanationURL: window?.explanationURL ?? null, nextPoll: new Date(r.nextPoll), error: r.error }
    : null;
  return { line: line.line, names: line.names, identifiers: ids, keyType, paths, decision: decideRenewal(ids, obs, settings, now, window, force), cert, ari: view, hold: null, repairs: obs.integrity?.links ?? [] };
}

/** The serialisable view `plan --json` prints, one object per item. */
export function planJson(items: readonly PlanItem[], actions?: ActionsConfig): object[] {
  return items.map((i) => ({
    line: i.line,
    names: i.identifiers,
    keyType: i.keyType,
    action: i.decision.action,
    reason: i.decision.reason,
    notAfter: i.decision.notAfter ? i.decision.notAfter.toISOString() : null,
    newKey: i.decision.newKey,
    cert: i.paths.cert,
    key: i.paths.key,
    warnings: i.decision.warnings,
    ...timingJson(i),
    repairs: i.repairs.map(describeLink),
    ...(actions ? { sections: sectionsFor(actions, i) } : {}),
  }));
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** When an item renews and what holds it: the part of `plan --json` and `run --json` about timing. */
export function timingJson(i: PlanItem): object {
  const hold = i.hold;
  return {
    renewAt: iso(hold ? hold.until : i.decision.renewAt),
    basis: i.decision.basis,
    ari: i.ari ? { start: iso(i.ari.start), end: iso(i.ari.end), explanationURL: i.ari.explanationURL, nextPoll: iso(i.ari.nextPoll), error: i.ari.error } : null,
    backoff: hold?.kind === 'backoff' ? { until: iso(hold.until), failures: hold.failures, lastError: hold.lastError, rateLimited: hold.rateLimited } : null,
    deferred: hold?.kind === 'deferred' ? iso(hold.until) : null,
  };
}

/** The actions.conf sections whose commands run when this certificate changes ([every] included). */
export function sectionsFor(actions: ActionsConfig, item: PlanItem): string[] {
  return groupBySection(actions, [{ names: item.names, keyType: item.keyType, certPath: item.paths.cert, keyPath: item.paths.key }]).map((g) => g.section);
}
