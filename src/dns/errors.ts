/** Typed errors of the DNS layer. None of them ever carries a TSIG secret. */

/** A message that cannot be encoded or decoded (truncated, pointer loop, label too long…). */
export class DnsWireError extends Error {
  override name = 'DnsWireError';
}

/**
 * A TSIG failure: reported by the server in the TSIG error field (BADSIG, BADKEY, BADTIME…)
 * or found while verifying its answer. `code` is the RFC 8945 name, or `UNSIGNED` (the answer
 * to a signed request carried no TSIG) or `BADSECRET` (the configured secret is not base64).
 */
export class TsigError extends Error {
  override name = 'TsigError';
  constructor(
    readonly code: string,
    message: string,
    /** True when the server reported the error; false when our verification of its answer failed. */
    readonly fromServer = false,
  ) {
    super(message);
  }
}

/**
 * A failed DNS exchange. `code` is the rcode name (`REFUSED`, `NOTAUTH`, `NOTZONE`,
 * `SERVFAIL`…) when the server answered, `TIMEOUT` when no acceptable answer came in time,
 * `NETWORK` for socket errors, `TSIG` when the answer failed TSIG verification and `FORMAT`
 * for an answer that could not be decoded. The message names the zone (for updates) or the
 * question, and the server: `dns update zone int.example.com at 127.0.0.1:5353: REFUSED`.
 */
export class DnsError extends Error {
  override name = 'DnsError';
  readonly code: string;
  /** Numeric rcode when the server answered. */
  readonly rcode?: number;
  /** TSIG error name (BADSIG, BADKEY, BADTIME, UNSIGNED…) when TSIG was involved. */
  readonly tsigError?: string;
  /** `host:port` of the server. */
  readonly server: string;
  /** The zone of an update. */
  readonly zone?: string;
  /** What went wrong beyond the code (`unsigned answer`, `no answer over UDP after 3 attempts…`). */
  readonly detail?: string;

  constructor(fields: {
    subject: string;
    server: string;
    code: string;
    detail?: string;
    rcode?: number;
    tsigError?: string;
    zone?: string;
    cause?: unknown;
  }) {
    const detail = fields.detail ? `: ${fields.detail}` : '';
    super(`${fields.subject} at ${fields.server}: ${fields.code}${detail}`, { cause: fields.cause });
    this.code = fields.code;
    this.rcode = fields.rcode;
    this.tsigError = fields.tsigError;
    this.server = fields.server;
    this.zone = fields.zone;
    this.detail = fields.detail;
  }
}

/** One TXT value an authoritative server did not serve when propagation gave up. */
export interface MissingRecord {
  server: string;
  name: string;
  value: string;
  /** Why the lookup failed, when it did (timeout, REFUSED…); absent when the value was just not there. */
  reason?: string;
}

/** `waitForPropagation` ran out of time; `missing` lists every server/record pair still lacking. */
export class PropagationError extends Error {
  override name = 'PropagationError';
  constructor(
    readonly missing: MissingRecord[],
    timeoutMs: number,
  ) {
    const list = missing
      .map((m) => `${m.server} lacks TXT ${m.name} "${m.value}"${m.reason ? ` (${m.reason})` : ''}`)
      .join('; ');
    super(`dns-01 propagation: not served after ${timeoutMs} ms: ${list}`);
  }
}
