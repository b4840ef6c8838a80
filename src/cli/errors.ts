export { ConfigError } from '../config/diagnostics.ts';

/** Bad flags or arguments: exit 2, one line, no stack. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit codes, as documented in the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

/** What a command writes to; injected so tests and the binary share one path. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}
