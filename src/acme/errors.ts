/** An RFC 8555 §6.7 problem document answered by the CA, kept whole (acme-client keeps only `detail`). */
export class AcmeProblemError extends Error {
  constructor(
    readonly type: string,
    readonly detail: string,
    readonly status: number,
    readonly identifier: string | null = null,
    /** When the CA allows the next attempt (429 / 503 `Retry-After`), if it said. */
    readonly retryAfter: Date | null = null,
  ) {
    super(`${identifier ? `${identifier}: ` : ''}${detail} (${shortType(type)}${status ? `, HTTP ${status}` : ''})${retryAfter ? `; retry after ${retryAfter.toISOString()}` : ''}`);
    this.name = 'AcmeProblemError';
  }

  /** The problem type without the `urn:ietf:params:acme:error:` prefix (`rateLimited`, `connection`, …). */
  get shortType(): string {
    return shortType(this.type);
  }

  /** A failed validation: repeating it burns the CA's failed-authorization limit. */
  get isValidationFailure(): boolean {
    return ['unauthorized', 'dns', 'connection', 'caa', 'tls', 'incorrectResponse'].includes(this.shortType);
  }
}

function shortType(type: string): string {
  return type.replace(/^urn:ietf:params:acme:error:/, '');
}

/** A request that never got an answer: connection refused, reset, TLS failure, timeout. `cause` keeps the original. */
export class AcmeNetworkError extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error && cause.message ? cause.message : code;
    super(`${url}: ${why.includes(code) ? why : `${code}: ${why}`}`, { cause });
    this.name = 'AcmeNetworkError';
  }
}

/** A step that did not finish in the time allowed (an order that stays pending, a slow CA). */
export class AcmeTimeoutError extends Error {
  constructor(what: string, seconds: number) {
    super(`${what}: no result after ${seconds}s`);
    this.name = 'AcmeTimeoutError';
  }
}

/**
 * Parses a `Retry-After` header (delta-seconds or HTTP-date, RFC 9110 §10.2.3) against `now`.
 * Returns null when absent or unreadable.
 */
export function parseRetryAfter(value: unknown, now: Date): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return new Date(now.getTime() + Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : new Date(at);
}
