import type { CaHealth } from './ca-health.ts';
/**
 * The adapter's contract, apart from the code that runs it: what callers give it and get back.
 * session.ts and order-flow.ts both take an IssueRequest, and neither imports the other for it.
 */
import type { Solver } from '../challenge/solver.ts';

/** How to reach one CA as one account. */
export interface AcmeOptions {
  directoryUrl: string;
  /** PEM of the account key (RSA or EC). Never logged. */
  accountKeyPem: string;
  contact: string[];
  eab: { kid: string; hmacKey: string } | null;
  /** Per HTTP request. */
  requestTimeoutMs: number;
  /** Per order, from creation to certificate. */
  orderTimeoutMs: number;
  /** Longest Retry-After worth waiting for inside a run; longer ones fail the step. */
  maxRetryWaitMs: number;
  log: (message: string) => void;
  /** The run's CA health and abort signal (ca-health.ts), shared by its orders; optional. */
  health?: CaHealth;
}

/** One certificate request. */
export interface IssueRequest {
  identifiers: string[];
  /** ARI CertID of the certificate this order renews (RFC 9773 §5), when it was issued through the same directory and account. */
  replaces?: string;
  /** Certificate profile for newOrder, from `profile` in `[acme:*]`. */
  profile?: string;
  csrPem: string;
  /** Proves control; per identifier it may hand over to another (`solverFor`: dns-01 under a `[dns:*]` zone). */
  solver: Solver;
  /** Called for each http-01 challenge, after its proof is in place and before the CA is asked to validate (pre-flight checks). */
  beforeValidate?: (identifier: string, token: string, keyAuthorization: string) => Promise<void>;
  /** Where problems that do not fail the request go (a failed cleanup). */
  log?: (message: string) => void;
  /**
   * An order placed before (by this account, for these identifiers) to continue instead of
   * placing a new one: pending is validated, ready finalized, processing polled, valid
   * downloaded. One that is invalid, gone (404) or for other identifiers is replaced by a new order.
   */
  resumeOrderUrl?: string;
  /**
   * Awaited right after the CA created a new order and before any challenge is answered, so the
   * caller can record the URL durably and resume it later. A throw ends the request.
   */
  onOrderCreated?: (url: string) => Promise<void>;
}

/** An account session with a CA. */
export interface AcmeSession {
  /** Orders, validates, finalizes; returns the PEM chain as the CA sent it (leaf first). */
  issue(req: IssueRequest): Promise<Issued>;
}

/** What an issuance returns. */
export interface Issued {
  /** The PEM chain as the CA sent it (leaf first). */
  chain: string;
  /** The CertID the order named in `replaces`; null when it named none or the CA refused it. */
  replaced: string | null;
}

/** Runs one ACME request with the session's retry policy and typed errors. */
export type Step = <T>(what: string, fn: () => Promise<T>) => Promise<T>;
