/**
 * The adapter's request types, apart from the code that runs them: session.ts and order-flow.ts
 * both take an IssueRequest, and neither must import the other to know its shape.
 */
import type { Solver } from '../challenge/solver.ts';

/** One certificate request. */
export interface IssueRequest {
  identifiers: string[];
  csrPem: string;
  /** Proves control; per identifier it may hand over to another (`solverFor`: dns-01 under a `[dns:*]` zone). */
  solver: Solver;
  /** Called for each http-01 challenge, after its proof is in place and before the CA is asked to validate (pre-flight checks). */
  beforeValidate?: (identifier: string, token: string, keyAuthorization: string) => Promise<void>;
  /** Where problems that do not fail the request go (a failed cleanup). */
  log?: (message: string) => void;
}
