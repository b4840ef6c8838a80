import type { IniEntry } from './ini.ts';
import type { Reporter } from './reporter.ts';

/** One command of an action list, with the line it is written on. */
export interface ActionCommand {
  command: string;
  /** 1-based line of the command's JSON string (lists may span continuation lines). */
  line: number;
}

/**
 * Parses the resolved `value` of an action key (`prepare`, `uploadCerts`, `uploadKeys`,
 * `update`) as lematt did, as JSON, but accepts only an array of non-blank strings. On any
 * problem it reports errors that say what to write instead (the common traps: text after the
 * array such as an inline comment, single quotes, a trailing comma, a bare string) and returns
 * null.
 */
export function parseCommandList(value: string, entry: IniEntry, report: Reporter): ActionCommand[] | null {
  const key = entry.rawKey;
  const lineAt = (offset: number) => entry.lines[Math.min(countNewlines(value.slice(0, offset)), entry.lines.length - 1)]!;
  if (value.trim() === '') {
    report.error(entry.line, `${key}: empty value; write [] for no commands, or remove the key`);
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    const { message, offset } = explainJsonError(value, error as Error);
    report.error(offset === undefined ? entry.line : lineAt(offset), `${key}: ${message}`);
    return null;
  }
  if (typeof parsed === 'string') {
    report.error(entry.line, `${key}: must be a JSON array of strings, e.g. ${JSON.stringify([parsed])}`);
    return null;
  }
  if (!Array.isArray(parsed)) {
    report.error(entry.line, `${key}: must be a JSON array of strings, got ${describe(parsed)}`);
    return null;
  }
  // In an array whose elements are all strings, the n-th string literal is the n-th element.
  const offsets = [...value.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((match) => match.index!);
  let ok = true;
  parsed.forEach((element: unknown, index) => {
    const problem = typeof element !== 'string' ? `must be a string, got ${describe(element)}`
      : element.trim() === '' ? 'is an empty command' : null;
    if (problem) report.error(entry.line, `${key}: element ${index + 1} ${problem}`);
    ok &&= problem === null;
  });
  if (!ok) return null;
  return (parsed as string[]).map((command, index) => ({ command, line: lineAt(offsets[index] ?? 0) }));
}

function explainJsonError(value: string, error: Error): { message: string; offset?: number } {
  const arrayEnd = endOfLeadingArray(value);
  if (arrayEnd !== undefined) {
    const extra = value.slice(arrayEnd).trim().split('\n')[0]!;
    const comment = /^[#;]/.test(extra) ? ' (there are no inline comments: put it on a line of its own)' : '';
    return { message: `text after the JSON array: "${extra}"${comment}`, offset: arrayEnd };
  }
  if (/^\s*\[\s*'/.test(value)) return { message: `not valid JSON: strings need double quotes, e.g. ["cmd"]` };
  const comma = /,\s*\]\s*$/.exec(value);
  if (comma) return { message: 'not valid JSON: remove the comma before "]"', offset: comma.index };
  // V8 quotes the whole input in some messages; keep only its diagnosis and position.
  const position = /at position (\d+)/.exec(error.message);
  const reason = error.message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  return {
    message: `not valid JSON (${reason}); write a JSON array of strings, e.g. ["service nginx reload"]`,
    offset: position ? Number(position[1]) : undefined,
  };
}

/** Offset just past a valid JSON array that starts `value` and is followed by more text. */
function endOfLeadingArray(value: string): number | undefined {
  if (!value.trimStart().startsWith('[')) return undefined;
  for (let end = value.lastIndexOf(']'); end > 0; end = value.lastIndexOf(']', end - 1)) {
    if (value.slice(end + 1).trim() === '') continue;
    try {
      JSON.parse(value.slice(0, end + 1));
      return end + 1;
    } catch {
      // not this bracket; try an earlier one
    }
  }
  return undefined;
}

function countNewlines(text: string): number {
  return text.split('\n').length - 1;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
