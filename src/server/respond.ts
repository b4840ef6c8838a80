/**
 * The stateless HTTP-01 responder: a key authorization is `<token>.<thumbprint>` (RFC 8555 §8.1),
 * so a server that knows the account key's thumbprint can answer any token without files, and
 * every node behind round-robin DNS or a load balancer answers the same.
 */
import type { RequestHandler } from './http-server.ts';
import { parseChallengePath } from './challenge-path.ts';
import { isReadMethod, reply, replyMethodNotAllowed, replyNotFound } from './reply.ts';

/** Returns the key authorization for `token` under the account whose JWK thumbprint is given. */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}

/**
 * Returns a handler that answers GET/HEAD for a valid challenge path with 200 and
 * `<token>.<thumbprint>`, 405 for other methods there, 404 elsewhere.
 * @param thumbprint the account key's RFC 7638 thumbprint (see `jwkThumbprint`)
 */
export function createRespondHandler(thumbprint: string): RequestHandler {
  return (req, res) => {
    const target = parseChallengePath(req.url ?? '');
    if (!target) return replyNotFound(req, res);
    if (!isReadMethod(req)) return replyMethodNotAllowed(req, res);
    reply(req, res, 200, {}, keyAuthorization(target.token, thumbprint));
  };
}
