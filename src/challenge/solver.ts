/**
 * Proves control of one identifier for one challenge. Two methods, as every ACME client has:
 * `present` makes the proof visible before the CA is told to look; `cleanup` removes it after,
 * on success and failure alike, and must not throw for a proof that is already gone.
 */
export interface Solver {
  /** The ACME challenge type this solver answers (`http-01`, `dns-01`). */
  readonly type: 'http-01' | 'dns-01';
  present(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  cleanup(identifier: string, token: string, keyAuthorization: string): Promise<void>;
}

/** RFC 8555 §8.3: a token is base64url without padding; anything else must never become a path. */
export function isValidToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{1,256}$/.test(token);
}
