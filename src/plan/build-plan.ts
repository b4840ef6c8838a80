import type { ActionsConfig } from '../config/actions.ts';
import type { DomainLine } from '../config/domains.ts';
import type { Settings } from '../config/settings.ts';
import type { KeySpec } from '../crypto/keys.ts';
import { describeLink } from '../store/links.ts';
import { identifiers, type CertPaths, type KeyType, type Mode, type NamingOptions } from '../store/layout.ts';
import { groupBySection } from './deployments.ts';
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
  /** Per-name links of this certificate to repair (without the CA) on this run. */
  repairs: LinkFinding[];
}

/** True when the item goes to the CA on this run (issue or renew). */
export function isDue(item: PlanItem): boolean {
  return item.decision.action === 'issue' || item.decision.action === 'renew';
}

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

/** Decides one item. Pure: observations and `now` are passed in. */
export function planItem(line: DomainLine, keyType: KeyType, paths: CertPaths, obs: Observed, settings: Settings, now: Date): PlanItem {
  const ids = identifiers(line.names);
  return { line: line.line, names: line.names, identifiers: ids, keyType, paths, decision: decideRenewal(ids, obs, settings, now), repairs: obs.integrity?.links ?? [] };
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
    repairs: i.repairs.map(describeLink),
    ...(actions ? { sections: sectionsFor(actions, i) } : {}),
  }));
}

/** The actions.conf sections whose commands run when this certificate changes ([every] included). */
export function sectionsFor(actions: ActionsConfig, item: PlanItem): string[] {
  return groupBySection(actions, [{ names: item.names, keyType: item.keyType, certPath: item.paths.cert, keyPath: item.paths.key }]).map((g) => g.section);
}
