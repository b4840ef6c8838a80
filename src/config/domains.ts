import { checkName, expandTokens, MAX_NAMES_PER_LINE } from './names.ts';
import type { Reporter } from './reporter.ts';

/** One certificate's line of the domains file (each line gives one RSA and one EC certificate). */
export interface DomainLine {
  /** 1-based line number. */
  line: number;
  /** Whitespace-separated tokens as written, inline comment removed. */
  tokens: string[];
  /** Expanded names in token order, exact spelling kept (file names depend on it), duplicates kept. */
  names: string[];
}

/**
 * Parses the domains file (lematt reference §3.3) with lematt's traps fixed: lines are trimmed,
 * blank lines and lines starting with `#` are skipped, and ` #` starts an inline comment
 * (warned about, since lematt read such words as names). Reports every problem: invalid names,
 * a line over 100 names, an empty file (errors); names repeated on one line or on two lines
 * (warnings). Wildcards are well formed here; parse.ts checks each has a `[dns:*]` zone. Returns
 * every non-comment line, including those with errors.
 */
export function parseDomains(text: string, report: Reporter): DomainLine[] {
  const result: DomainLine[] = [];
  const firstSeen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const body = stripComment(raw.trim(), line, report);
    if (body === '') continue;
    const tokens = body.split(/\s+/);
    if (tokens.length > MAX_NAMES_PER_LINE) {
      report.error(line, `${tokens.length} names on one line; a certificate holds at most ${MAX_NAMES_PER_LINE}`);
    }
    const names = expandTokens(tokens);
    for (const name of names) {
      const problem = checkName(name);
      if (problem) report.error(line, problem);
    }
    checkDuplicates(names, line, firstSeen, report);
    result.push({ line, tokens, names });
  }
  if (result.length === 0) report.error(0, 'no certificates: every line is blank or a comment');
  return result;
}

/** Returns the line without its comment ('' for a comment line), warning about inline comments. */
function stripComment(line: string, lineNo: number, report: Reporter): string {
  if (line.startsWith('#')) return '';
  const inline = /\s#/.exec(line);
  if (!inline) return line;
  const words = line.slice(inline.index).trim().split(/\s+/);
  const shown = words.length > 5 ? [...words.slice(0, 5), '…'] : words;
  report.warning(lineNo, `inline comment: lematt read these as names (${shown.join(' ')}); certfleet ignores them`);
  return line.slice(0, inline.index).trim();
}

function checkDuplicates(names: readonly string[], line: number, firstSeen: Map<string, number>, report: Reporter): void {
  const onLine = new Set<string>();
  const warned = new Set<string>();
  for (const name of names) {
    const key = name.toLowerCase();
    if (onLine.has(key)) {
      if (!warned.has(key)) report.warning(line, `"${name}" appears more than once on this line; it is requested once`);
      warned.add(key);
      continue;
    }
    onLine.add(key);
    const earlier = firstSeen.get(key);
    if (earlier === undefined) firstSeen.set(key, line);
    else report.warning(line, `"${name}" is also on line ${earlier}; both certificates will hold it`);
  }
}
