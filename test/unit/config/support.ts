import { type Diagnostic, formatDiagnostic } from '../../../src/config/diagnostics.ts';
import { type Reporter, reporterFor } from '../../../src/config/reporter.ts';

/** A reporter for file `f` plus the diagnostics it collected, formatted `f:line: severity: message`. */
export function collect(file = 'f'): { report: Reporter; diagnostics: Diagnostic[]; lines: () => string[] } {
  const diagnostics: Diagnostic[] = [];
  return { report: reporterFor(file, diagnostics), diagnostics, lines: () => diagnostics.map(formatDiagnostic) };
}

/** Joins lines with `\n` (keeps test tables readable). */
export function text(...lines: string[]): string {
  return lines.join('\n');
}
