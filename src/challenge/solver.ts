/**
 * Proves control of one identifier for one challenge. Two methods, as every ACME client has:
 * `present` makes the proof visible before the CA is told to look; `cleanup` removes it after,
 * on success and failure alike, and must not throw for a proof that is already gone. Two
 * optional capabilities sit beside them (certmagic `solvers.go`): `settle` for proofs that take
 * time to become visible, `solverFor` for a solver that serves names differently.
 */
export interface Solver {
  /** The ACME challenge type this solver answers (`http-01`, `dns-01`). */
  readonly type: 'http-01' | 'dns-01';
  present(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  cleanup(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  /**
   * Optional. Awaited once per order, after every proof this solver presented for the order is
   * in place and before the CA is told to look: a dns-01 solver waits here until every
   * authoritative server serves every record of the order (apex and wildcard values at once).
   * Throws when the proofs did not become visible; the CA is then not asked.
   */
  settle?(proofs: readonly Proof[]): Promise<void>;
  /**
   * Optional. The solver for one identifier (`*.example.com` for a wildcard), for a solver that
   * serves names differently: dns-01 under a `[dns:*]` zone, http-01 elsewhere. Without it,
   * this solver answers every identifier.
   */
  solverFor?(identifier: string): Solver;
}

/** One proof as `present` received it. */
export interface Proof {
  identifier: string;
  token: string;
  keyAuthorization: string;
}

/** RFC 8555 §8.3: a token is base64url without padding; anything else must never become a path. */
export function isValidToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{1,256}$/.test(token);
}
