/**
 * ACME errors as RFC 7807 problem documents (RFC 8555 §6.7). Handlers throw an {@link AcmeProblem};
 * the request boundary (handler.ts) turns it into the response, so no check has to know how to answer.
 */

/** The `urn:ietf:params:acme:error:*` types the device-facing server uses (RFC 8555 §6.7, RFC 9773 §5, draft-aaron-acme-profiles). */
export type ProblemType =
  | 'malformed'
  | 'unauthorized'
  | 'badNonce'
  | 'badSignatureAlgorithm'
  | 'badPublicKey'
  | 'badCSR'
  | 'externalAccountRequired'
  | 'accountDoesNotExist'
  | 'rejectedIdentifier'
  | 'orderNotReady'
  | 'alreadyReplaced'
  | 'invalidProfile'
  | 'unsupportedIdentifier'
  | 'serverInternal';

/** The HTTP status each type is answered with unless a throw names another. */
const STATUS: Readonly<Record<ProblemType, number>> = {
  malformed: 400,
  unauthorized: 403,
  badNonce: 400,
  badSignatureAlgorithm: 400,
  badPublicKey: 400,
  badCSR: 400,
  externalAccountRequired: 400,
  accountDoesNotExist: 400,
  rejectedIdentifier: 400,
  orderNotReady: 403,
  alreadyReplaced: 409,
  invalidProfile: 400,
  unsupportedIdentifier: 400,
  serverInternal: 500,
};

/** A refusal to send to the client: `detail` is shown to the device's operator, so it names nothing secret. */
export class AcmeProblem extends Error {
  readonly status: number;
  /** Extra members of the problem document (`algorithms` for badSignatureAlgorithm, RFC 8555 §6.2). */
  readonly extra: Record<string, unknown>;

  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    options: { status?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(`${type}: ${detail}`);
    this.status = options.status ?? STATUS[type];
    this.extra = options.extra ?? {};
  }

  /** The problem document's JSON text. */
  body(): string {
    return JSON.stringify({ type: `urn:ietf:params:acme:error:${this.type}`, detail: this.detail, status: this.status, ...this.extra });
  }
}

/** Shorthand for the most common refusal. */
export function malformed(detail: string, status?: number): AcmeProblem {
  return new AcmeProblem('malformed', detail, { status });
}
