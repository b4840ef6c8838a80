/**
 * The forwarder (successor of lematt's leforward.py): runs on a host that a name points at and
 * redirects the CA's HTTP-01 request to the machine that holds the key authorizations
 * (RFC 8555 §8.3 lets the CA follow redirects).
 */
import type { RequestHandler } from './http-server.ts';
import { CHALLENGE_PREFIX, parseChallengePath } from './challenge-path.ts';
import { isReadMethod, reply, replyMethodNotAllowed, replyNotFound } from './reply.ts';

/**
 * Validates `--to` and returns the base the challenge path is appended to: the normalised URL
 * without trailing slashes, so `http://central.example.net/` and `http://central.example.net`
 * both forward to `http://central.example.net/.well-known/acme-challenge/<token>`. A path prefix
 * is kept (`http://central/acme` → `http://central/acme/.well-known/…`).
 * @throws Error `--to "<value>": …` unless the value is an absolute http(s) URL with a host and
 *   without credentials, query or fragment (those could not be combined with the request path).
 */
export function parseForwardTarget(to: string): string {
  const fail = (why: string): never => {
    throw new Error(`--to ${JSON.stringify(to)}: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    return fail('not a URL; expected e.g. http://central.example.net');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('must start with http:// or https://');
  if (!url.hostname) fail('has no host');
  if (url.username || url.password) fail('must not contain credentials');
  if (url.search || url.hash || to.includes('?') || to.includes('#')) fail('must not contain a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/**
 * Returns a handler that answers GET/HEAD for a valid challenge path with 301 to
 * `base + path`, query kept (as leforward did), 405 for other methods there, 404 elsewhere.
 * @param base a value returned by {@link parseForwardTarget}
 */
export function createForwardHandler(base: string): RequestHandler {
  return (req, res) => {
    const target = parseChallengePath(req.url ?? '');
    if (!target) return replyNotFound(req, res);
    if (!isReadMethod(req)) return replyMethodNotAllowed(req, res);
    reply(req, res, 301, { Location: `${base}${CHALLENGE_PREFIX}${target.token}${target.query}` });
  };
}
