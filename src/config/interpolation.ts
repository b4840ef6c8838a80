import type { IniDocument, IniEntry, IniSection } from './ini.ts';
import type { Reporter } from './reporter.ts';

// configparser.MAX_INTERPOLATION_DEPTH: deeper chains (or loops) are an error.
const MAX_DEPTH = 10;
const REFERENCE = /^%\(([^)]+)\)s/;

/** Outcome of resolving one value: the text, or why it cannot be resolved. */
export type Interpolated = { ok: true; value: string } | { ok: false; message: string };

/**
 * Resolves `entry.raw` as configparser's BasicInterpolation does when the entry is read from
 * `section`: `%%` becomes `%`, `%(name)s` becomes the (itself resolved) value of key `name`
 * (case-insensitive) from `section` or `[DEFAULT]`. A `%` followed by anything else, a malformed
 * or unknown reference, or references nested deeper than 10 (a loop) give `ok: false` with a
 * message that starts with the key as written.
 */
export function interpolate(doc: IniDocument, section: IniSection | null, entry: IniEntry): Interpolated {
  const lookup = (key: string): IniEntry | undefined => section?.entries.get(key) ?? doc.defaults.get(key);
  const where = section ? `[${section.name}] or [DEFAULT]` : '[DEFAULT]';
  const out: string[] = [];

  const expand = (text: string, depth: number): string | null => {
    if (depth > MAX_DEPTH) return `references nest deeper than ${MAX_DEPTH} levels (a loop?)`;
    let rest = text;
    while (rest !== '') {
      const percent = rest.indexOf('%');
      if (percent < 0) {
        out.push(rest);
        return null;
      }
      out.push(rest.slice(0, percent));
      rest = rest.slice(percent);
      const next = rest.charAt(1);
      if (next === '%') {
        out.push('%');
        rest = rest.slice(2);
      } else if (next === '(') {
        const reference = REFERENCE.exec(rest);
        if (!reference) return `bad reference "${excerpt(rest)}": write %(name)s, or %% for a literal percent sign`;
        rest = rest.slice(reference[0].length);
        const target = lookup(reference[1]!.toLowerCase());
        if (!target) return `%(${reference[1]})s refers to a key that is not in ${where}`;
        if (!target.raw.includes('%')) {
          out.push(target.raw);
        } else {
          const problem = expand(target.raw, depth + 1);
          if (problem) return problem;
        }
      } else {
        return `a literal "%" must be written "%%" (found "${excerpt(rest)}")`;
      }
    }
    return null;
  };

  const problem = expand(entry.raw, 1);
  return problem ? { ok: false, message: `${entry.rawKey}: ${problem}` } : { ok: true, value: out.join('') };
}

function excerpt(text: string): string {
  const line = text.split('\n')[0]!;
  return line.length > 20 ? `${line.slice(0, 20)}…` : line;
}

/**
 * Returns the lowercased names that `%(name)s` references anywhere in `doc` mention: helper
 * keys that exist only to be interpolated, which unknown-key warnings leave alone.
 */
export function referencedKeys(doc: IniDocument): Set<string> {
  const entries = [...doc.defaults.values(), ...doc.sections.flatMap((section) => [...section.entries.values()])];
  return new Set(entries.flatMap((entry) => [...entry.raw.matchAll(/%\(([^)]+)\)s/g)].map((m) => m[1]!.toLowerCase())));
}

/**
 * Returns the resolved value of `entry` read from `section` (null for `[DEFAULT]` itself), or
 * null after reporting the problem as an error on the entry's line.
 */
export function readValue(doc: IniDocument, section: IniSection | null, entry: IniEntry, report: Reporter): string | null {
  const result = interpolate(doc, section, entry);
  if (result.ok) return result.value;
  report.error(entry.line, result.message);
  return null;
}
