/**
 * The HTTP-01 challenge path and token grammar (RFC 8555 §8.3), shared by every server and check
 * that touches `/.well-known/acme-challenge/`.
 */

/** Path prefix under which an ACME server fetches HTTP-01 key authorizations. */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * Upper bound on token length. RFC 8555 only sets a floor (128 bits of entropy, 22 characters);
 * real CAs send 43. The bound keeps junk requests from reaching handlers and logs.
 */
export const MAX_TOKEN_LENGTH = 256;

/** base64url alphabet without padding (RFC 8555 §8.3, RFC 4648 §5). */
export const TOKEN_CHARACTERS = 'A-Za-z0-9_-';

const TOKEN_RE = new RegExp(`^[${TOKEN_CHARACTERS}]{1,${MAX_TOKEN_LENGTH}}$`);
/** RFC 3986 §3.4 query characters, so a kept query can go into a Location header unchanged. */
const QUERY_RE = /^\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

/** A parsed request target that names one challenge token. */
export interface ChallengeTarget {
  token: string;
  /** The raw query string including its leading `?`, or `''`. */
  query: string;
}

/** Returns whether `token` is a syntactically valid ACME token (unpadded base64url, bounded). */
export function isToken(token: string): boolean {
  return TOKEN_RE.test(token);
}

/**
 * Parses a raw HTTP request target (origin form, as in `req.url`) into the challenge token it
 * names. Returns `null` for anything else: other paths, an empty or over-long token, a token
 * with `/`, `.` or `%` (so neither `../` nor `%2e%2e` traversal can pass), a query with characters
 * RFC 3986 does not allow, absolute-form targets.
 * The raw target is checked as sent, without decoding, so what is validated is what is used.
 */
export function parseChallengePath(rawTarget: string): ChallengeTarget | null {
  if (!rawTarget.startsWith(CHALLENGE_PREFIX)) return null;
  const rest = rawTarget.slice(CHALLENGE_PREFIX.length);
  const q = rest.indexOf('?');
  const token = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q);
  if (!isToken(token) || (query !== '' && !QUERY_RE.test(query))) return null;
  return { token, query };
}

/** Returns the request path for `token`; throws if the token is not valid base64url. */
export function challengePath(token: string): string {
  if (!isToken(token)) throw new Error(`challenge token ${JSON.stringify(token.slice(0, 40))}: not base64url`);
  return CHALLENGE_PREFIX + token;
}
