import type { Reporter } from './reporter.ts';

/**
 * A line-aware reader of the INI dialect of Python's `configparser.ConfigParser()` with default
 * settings, which lematt used for lematt.conf and actions.conf (lematt reference §3.1). It keeps
 * every line number so diagnostics can point at the source, and reports every problem instead of
 * stopping at the first as configparser does.
 */

/** Name of configparser's default section, whose entries every other section inherits. */
export const DEFAULT_SECTION = 'DEFAULT';

/** One `key = value` entry, value not yet interpolated. */
export interface IniEntry {
  /** Lowercased key (configparser's optionxform): `reauthorizeDays` is stored as `reauthorizedays`. */
  key: string;
  /** The key as spelled in the file, for messages. */
  rawKey: string;
  /** Continuation lines joined with `\n`, trailing blank lines removed, `%` not yet resolved. */
  raw: string;
  /** 1-based line of the key. */
  line: number;
  /** Source line of each `\n`-separated segment of `raw` (segment 0 is on `line`). */
  lines: number[];
  /** Section the entry is written in (`DEFAULT` for entries of `[DEFAULT]`). */
  section: string;
}

/** One `[name]` section with its own entries (inherited `[DEFAULT]` entries are not copied in). */
export interface IniSection {
  /** Name as written between the brackets; case-sensitive. */
  name: string;
  /** 1-based line of the header. */
  line: number;
  entries: Map<string, IniEntry>;
}

/** A parsed file: `[DEFAULT]` entries apart, the other sections in file order. */
export interface IniDocument {
  defaults: Map<string, IniEntry>;
  sections: IniSection[];
}

// configparser's SECTCRE and OPTCRE (delimiters `=` and `:`), applied to the stripped line.
const SECTION_HEADER = /^\[(.+)\]/;
const OPTION_LINE = /^(.*?)\s*[=:]\s*(.*)$/;

/**
 * Parses `text` into sections and entries. Never throws: each malformed line, duplicate section,
 * duplicate key, or key before the first section header is reported to `report` as an error
 * naming the lines involved, and parsing goes on. CRLF, CR and LF line ends are all accepted and
 * a leading UTF-8 BOM is ignored.
 */
export function parseIni(text: string, report: Reporter): IniDocument {
  const doc: IniDocument = { defaults: new Map(), sections: [] };
  const sectionLines = new Map<string, number>();
  let current: Map<string, IniEntry> | null = null;
  let currentName = '';
  let value: IniEntry | null = null;
  let indentLevel = 0;
  let reportedOutside = false;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (const [index, line] of lines.entries()) {
    const lineNo = index + 1;
    const stripped = line.trim();
    // Full-line comments may be indented; they neither end nor extend a value.
    if (stripped.startsWith('#') || stripped.startsWith(';')) continue;
    if (stripped === '') {
      // configparser keeps blank lines inside values (empty_lines_in_values) and strips the
      // trailing ones when joining.
      if (value) pushSegment(value, '', lineNo);
      continue;
    }
    const indent = line.search(/\S/);
    if (current && value && indent > indentLevel) {
      pushSegment(value, stripped, lineNo);
      continue;
    }
    indentLevel = indent;
    value = null;

    const header = SECTION_HEADER.exec(stripped);
    if (header) {
      const name = header[1]!;
      if (name === DEFAULT_SECTION) {
        // configparser lets [DEFAULT] appear more than once; its keys must still be unique.
        current = doc.defaults;
      } else if (sectionLines.has(name)) {
        report.error(lineNo, `duplicate section [${name}]: first defined on line ${sectionLines.get(name)}`);
        current = new Map(); // parse its body for syntax, then drop it
      } else {
        sectionLines.set(name, lineNo);
        current = new Map();
        doc.sections.push({ name, line: lineNo, entries: current });
      }
      currentName = name;
      continue;
    }
    if (!current) {
      if (!reportedOutside) report.error(lineNo, `"${stripped}" comes before any [section] header`);
      reportedOutside = true;
      continue;
    }
    const option = OPTION_LINE.exec(stripped);
    if (!option) {
      report.error(lineNo, `cannot parse "${stripped}": expected [section], key = value, key: value, or a # comment`);
      continue;
    }
    const rawKey = option[1]!.trimEnd();
    if (rawKey === '') {
      report.error(lineNo, `"${stripped}" has no key before the delimiter`);
      continue;
    }
    const key = rawKey.toLowerCase();
    const entry: IniEntry = {
      key, rawKey, raw: option[2]!.trim(), line: lineNo, lines: [lineNo], section: currentName,
    };
    const previous = current.get(key);
    if (previous) {
      report.error(lineNo, `duplicate key "${rawKey}" in [${currentName}]: first set on line ${previous.line}`);
    } else {
      current.set(key, entry);
    }
    // A dropped duplicate still owns its continuation lines.
    value = entry;
  }
  for (const entry of allEntries(doc)) trimTrailingBlankSegments(entry);
  return doc;
}

function pushSegment(entry: IniEntry, segment: string, lineNo: number): void {
  entry.raw += `\n${segment}`;
  entry.lines.push(lineNo);
}

function trimTrailingBlankSegments(entry: IniEntry): void {
  const segments = entry.raw.split('\n');
  while (segments.length > 1 && segments[segments.length - 1] === '') {
    segments.pop();
    entry.lines.pop();
  }
  entry.raw = segments.join('\n');
}

function* allEntries(doc: IniDocument): Iterable<IniEntry> {
  yield* doc.defaults.values();
  for (const section of doc.sections) yield* section.entries.values();
}

/** Returns the section named `name` (case-sensitive), or undefined. */
export function findSection(doc: IniDocument, name: string): IniSection | undefined {
  return doc.sections.find((section) => section.name === name);
}

/**
 * Returns the entries visible in `section` as configparser sees them: its own entries, then
 * the `[DEFAULT]` entries it does not override.
 */
export function visibleEntries(doc: IniDocument, section: IniSection): IniEntry[] {
  const own = [...section.entries.values()];
  const inherited = [...doc.defaults.values()].filter((entry) => !section.entries.has(entry.key));
  return [...own, ...inherited];
}
