/**
 * The one way challenge servers answer: small, complete, uncacheable responses.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Methods every challenge server accepts; everything else gets 405. */
export const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** Returns whether the request uses GET or HEAD. */
export function isReadMethod(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/**
 * Sends a complete response: `status`, the given headers, and `body` (none by default) as
 * text/plain with an exact Content-Length. Node drops the body itself for HEAD. Requests that may
 * carry a body we never read (methods other than GET/HEAD) get `Connection: close`, so an unread
 * upload cannot hold the connection open.
 */
export function reply(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders = {},
  body = '',
): void {
  const all: OutgoingHttpHeaders = {
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
    ...(body ? { 'Content-Type': 'text/plain; charset=us-ascii' } : {}),
    ...(isReadMethod(req) ? {} : { Connection: 'close' }),
    ...headers,
  };
  // setHeader, not writeHead(status, headers): the request log reads Location back.
  for (const [name, value] of Object.entries(all)) if (value !== undefined) res.setHeader(name, value);
  res.statusCode = status;
  res.end(body);
}

/** 404 for anything outside the challenge path, whatever the method. */
export function replyNotFound(req: IncomingMessage, res: ServerResponse): void {
  reply(req, res, 404);
}

/** 405 with the `Allow` header RFC 9110 §15.5.6 requires. */
export function replyMethodNotAllowed(req: IncomingMessage, res: ServerResponse): void {
  reply(req, res, 405, { Allow: ALLOWED_METHODS.join(', ') });
}
