/** One problem found in a config file, GCC style: `file:line: severity: message`. */
export interface Diagnostic {
  file: string;
  /** 1-based line number; 0 when the problem is about the file as a whole. */
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Formats a diagnostic as `file:line: error: message` (the line is left out when it is 0). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`;
}

/** True when any diagnostic is an error (warnings do not stop a run). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Config problems, with every diagnostic: the error boundary prints them all and exits 2. Also
 * thrown after loading for what only a server can show (a profile the CA does not offer).
 */
export class ConfigError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'ConfigError';
  }
}
