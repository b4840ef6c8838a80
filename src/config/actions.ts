import { type ActionCommand, parseCommandList } from './action-commands.ts';
import type { DomainLine } from './domains.ts';
import { DEFAULT_SECTION, type IniDocument, type IniEntry, type IniSection, parseIni, visibleEntries } from './ini.ts';
import { readValue, referencedKeys } from './interpolation.ts';
import type { Reporter } from './reporter.ts';
import { splitKnownKeys, warnUnknownDefaults } from './values.ts';

export type { ActionCommand } from './action-commands.ts';

/** The four action lists of a section, in the order lematt runs the post-run ones. */
export type ActionKind = 'prepare' | 'uploadCerts' | 'uploadKeys' | 'update';

/** All action kinds (also the action keys of actions.conf, canonical spelling). */
export const ACTION_KINDS: readonly ActionKind[] = ['prepare', 'uploadCerts', 'uploadKeys', 'update'];

/** One section of actions.conf. Missing keys are empty lists (overrides inherit nothing). */
export interface ActionSection {
  name: string;
  /** 1-based line of the section header. */
  line: number;
  /** Exact names this override covers; empty for `[default]` and `[every]`. */
  domains: string[];
  /** 1-based line of the `domains` key (the header's line when there is none). */
  domainsLine: number;
  prepare: ActionCommand[];
  uploadCerts: ActionCommand[];
  uploadKeys: ActionCommand[];
  update: ActionCommand[];
}

/** actions.conf, typed. */
export interface ActionsConfig {
  /** Absolute path of actions.conf. */
  file: string;
  default: ActionSection;
  /** Runs in addition to the owning section for every name; null when the file has none. */
  every: ActionSection | null;
  overrides: ActionSection[];
}

const DOMAINS = 'domains';
const OCSP = 'ocspStapleRequired';
const OCSP_IGNORED = `${OCSP}: OCSP must-staple is no longer issued; ignored`;

/**
 * Parses actions.conf (lematt reference §3.4). `[default]` is required; `[every]` is optional;
 * any other section is an override that must list its names in `domains:`, and a name may
 * belong to one override only. Every problem is reported, and the result holds whatever parsed
 * (check the reporter for errors); a missing `[default]` is stood in for by an empty section on
 * line 0 so the overrides can still be cross-checked.
 */
export function parseActions(text: string, file: string, report: Reporter): ActionsConfig {
  const doc = parseIni(text, report);
  warnUnknownDefaults(doc, [...ACTION_KINDS, DOMAINS, OCSP], report, referencedKeys(doc));
  let defaultSection: ActionSection | null = null;
  let every: ActionSection | null = null;
  const overrides: ActionSection[] = [];
  for (const section of doc.sections) {
    const parsed = parseSection(doc, section, report);
    if (section.name === 'default') defaultSection = parsed;
    else if (section.name === 'every') every = parsed;
    else overrides.push(parsed);
  }
  checkOverlaps(overrides, report);
  if (!defaultSection) {
    const near = doc.sections.find((section) => section.name.toLowerCase() === 'default');
    const hint = near ? `; [${near.name}] on line ${near.line} does not count: section names are case-sensitive` : '';
    report.error(0, `missing section [default] (the actions for every name not in an override)${hint}`);
  }
  return { file, default: defaultSection ?? emptySection('default', 0), every, overrides };
}

function parseSection(doc: IniDocument, section: IniSection, report: Reporter): ActionSection {
  const role = section.name === 'default' || section.name === 'every' ? section.name : 'override';
  const result = emptySection(section.name, section.line);
  const where = `[${section.name}]`;
  const known = role === 'override' ? [...ACTION_KINDS, DOMAINS, OCSP] : role === 'default' ? [...ACTION_KINDS, OCSP] : ACTION_KINDS;
  const entries = visibleEntries(doc, section).filter((entry) => {
    const inherited = entry.section === DEFAULT_SECTION ? ` (inherited from [${DEFAULT_SECTION}])` : '';
    if (entry.key === DOMAINS.toLowerCase() && role !== 'override') {
      report.error(entry.line, `"${entry.rawKey}" is not allowed in ${where}${inherited}; list names in an override section`);
      return false;
    }
    if (entry.key === OCSP.toLowerCase()) {
      if (role === 'every' && !inherited) report.error(entry.line, `"${entry.rawKey}" is not allowed in [every]`);
      else report.warning(entry.line, OCSP_IGNORED);
      return false;
    }
    return true;
  });
  const keys = splitKnownKeys(entries, known, where, report, referencedKeys(doc));
  for (const kind of ACTION_KINDS) {
    const entry = keys.get(kind);
    const value = entry ? readValue(doc, section, entry, report) : null;
    if (entry && value !== null) result[kind] = parseCommandList(value, entry, report) ?? [];
  }
  const domains = keys.get(DOMAINS);
  if (role === 'override') result.domains = readDomains(doc, section, domains, report);
  if (domains) result.domainsLine = domains.line;
  return result;
}

function emptySection(name: string, line: number): ActionSection {
  return { name, line, domains: [], domainsLine: line, prepare: [], uploadCerts: [], uploadKeys: [], update: [] };
}

function readDomains(doc: IniDocument, section: IniSection, entry: IniEntry | undefined, report: Reporter): string[] {
  if (!entry) {
    report.error(section.line, `[${section.name}]: an override section needs "domains:" listing the names it covers`);
    return [];
  }
  const names = (readValue(doc, section, entry, report) ?? '').split(/\s+/).filter(Boolean);
  if (names.length === 0) report.warning(entry.line, `${entry.rawKey}: lists no names; [${section.name}] applies to nothing`);
  return names;
}

/** A name may belong to one override: lematt silently let the last section win. */
function checkOverlaps(overrides: readonly ActionSection[], report: Reporter): void {
  const owner = new Map<string, ActionSection>();
  for (const section of overrides) {
    const seen = new Set<string>();
    const line = section.domainsLine;
    for (const name of section.domains) {
      if (seen.has(name)) {
        report.warning(line, `"${name}" is listed twice in [${section.name}]`);
        continue;
      }
      seen.add(name);
      const first = owner.get(name);
      if (!first) owner.set(name, section);
      else report.error(line, `"${name}" is in [${first.name}] (line ${first.domainsLine}) and in [${section.name}] (line ${line}); a name may belong to one override only`);
    }
  }
}

/**
 * Warns about override names that no domains line produces. Matching is exact and
 * case-sensitive, as in lematt, so a name that differs only in case gets a hint.
 */
export function checkOverrideNames(actions: ActionsConfig, domains: readonly DomainLine[], report: Reporter): void {
  const exact = new Set(domains.flatMap((line) => line.names));
  const folded = new Map([...exact].map((name) => [name.toLowerCase(), name]));
  for (const section of actions.overrides) {
    for (const name of new Set(section.domains)) {
      if (exact.has(name)) continue;
      const near = folded.get(name.toLowerCase());
      const hint = near ? ` (domains has "${near}"; names match case-sensitively)` : '';
      report.warning(section.domainsLine, `"${name}" in [${section.name}] is on no line of domains${hint}; it has no effect`);
    }
  }
}

/** The section that owns `name`: the override listing it exactly (case-sensitive, as lematt), else [default]. */
export function sectionFor(actions: ActionsConfig, name: string): ActionSection {
  return actions.overrides.find((section) => section.domains.includes(name)) ?? actions.default;
}
