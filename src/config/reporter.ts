import type { Diagnostic } from './diagnostics.ts';

/** Collects diagnostics for one file; every parser in src/config reports through one. */
export interface Reporter {
  /** The file name shown in diagnostics (as the user should read it, not necessarily absolute). */
  readonly file: string;
  error(line: number, message: string): void;
  warning(line: number, message: string): void;
}

/** Returns a Reporter that appends to `out`, tagging each diagnostic with `file`. */
export function reporterFor(file: string, out: Diagnostic[]): Reporter {
  return {
    file,
    error: (line, message) => out.push({ file, line, severity: 'error', message }),
    warning: (line, message) => out.push({ file, line, severity: 'warning', message }),
  };
}

/**
 * Returns the candidate closest to `word` when it is a likely typo: equal ignoring case, or at
 * most two edits away (so `uploadCert` suggests `uploadCerts`). Returns undefined otherwise.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
