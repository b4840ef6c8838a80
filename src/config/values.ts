import { DEFAULT_SECTION, type IniDocument, type IniEntry } from './ini.ts';
import { closestMatch, type Reporter } from './reporter.ts';

/**
 * Parses a decimal number the way lematt's `float()` reads the common cases (`15`, `42.42`,
 * `1e3`, signs allowed). Returns null for anything else, including `inf` and `nan`, which no
 * sensible day count uses.
 */
export function parseDecimal(text: string): number | null {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Parses a base-10 integer (optional sign, digits only). Returns null for anything else. */
export function parseInteger(text: string): number | null {
  return /^[+-]?\d+$/.test(text) ? Number(text) : null;
}

// configparser.ConfigParser.BOOLEAN_STATES, compared after lowercasing.
const BOOLEAN_STATES: Record<string, boolean> = {
  1: true, yes: true, true: true, on: true,
  0: false, no: false, false: false, off: false,
};

/** Parses a configparser boolean (1/yes/true/on, 0/no/false/off, any case). Null otherwise. */
export function parseBoolean(text: string): boolean | null {
  return BOOLEAN_STATES[text.toLowerCase()] ?? null;
}

/**
 * Warns about each entry whose key is not in `known` (canonical spellings, compared without
 * case), naming the known keys and the likely intended one. Returns the entries whose keys are
 * known, keyed by canonical spelling. Unknown entries inherited from `[DEFAULT]` are dropped
 * without a warning: warnUnknownDefaults checks those once, against the keys of every section.
 * Keys in `used` (helpers that `%(name)s` references pull in) are not warned about either.
 */
export function splitKnownKeys(
  entries: readonly IniEntry[],
  known: readonly string[],
  where: string,
  report: Reporter,
  used: ReadonlySet<string> = new Set(),
): Map<string, IniEntry> {
  const canonical = new Map(known.map((key) => [key.toLowerCase(), key]));
  const found = new Map<string, IniEntry>();
  for (const entry of entries) {
    const name = canonical.get(entry.key);
    if (name) found.set(name, entry);
    else if (entry.section !== DEFAULT_SECTION && !used.has(entry.key)) warnUnknown(entry, known, where, report);
  }
  return found;
}

/**
 * Warns about each `[DEFAULT]` entry whose key is not in `known` (the keys of all sections)
 * and not in `used` (see splitKnownKeys).
 */
export function warnUnknownDefaults(doc: IniDocument, known: readonly string[], report: Reporter, used: ReadonlySet<string>): void {
  const lower = new Set(known.map((key) => key.toLowerCase()));
  for (const entry of doc.defaults.values()) {
    if (!lower.has(entry.key) && !used.has(entry.key)) warnUnknown(entry, known, `[${DEFAULT_SECTION}]`, report);
  }
}

function warnUnknown(entry: IniEntry, known: readonly string[], where: string, report: Reporter): void {
  const guess = closestMatch(entry.rawKey, known);
  const hint = guess ? ` (did you mean ${guess}?)` : '';
  report.warning(entry.line, `unknown key "${entry.rawKey}" in ${where}${hint}; known keys: ${known.join(', ')}`);
}
