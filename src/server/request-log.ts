/**
 * One stderr line per request or rejected connection, safe to print whatever the client sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Longest request target a log line shows; longer ones are cut and marked with `…`. */
export const MAX_LOGGED_TARGET = 200;

/**
 * Escapes control and non-ASCII characters as `\xHH` and cuts to `max` characters, so junk
 * requests cannot forge log lines or drive a terminal.
 */
export function sanitizeForLog(text: string, max = MAX_LOGGED_TARGET): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = cut.replace(/[^\x20-\x7e]|\\/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return text.length > max ? `${safe}…` : safe;
}

function peer(socket: Socket | null | undefined): string {
  const address = socket?.remoteAddress ?? '-';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Formats the line for a finished (or aborted) request:
 * `<ISO time> <peer> "<METHOD> <target>" <status>[ -> <Location>]`.
 */
export function formatRequestLine(req: IncomingMessage, res: ServerResponse, now: Date): string {
  const status = res.writableFinished ? String(res.statusCode) : 'aborted';
  const location = res.getHeader('location');
  const target = sanitizeForLog(`${req.method ?? '-'} ${req.url ?? '-'}`);
  const suffix = typeof location === 'string' ? ` -> ${sanitizeForLog(location)}` : '';
  return `${now.toISOString()} ${peer(req.socket)} "${target}" ${status}${suffix}`;
}

/**
 * Formats the line for a connection rejected before a request was parsed (bad syntax, timeout);
 * status `-` when no HTTP answer was possible (a failed TLS handshake).
 */
export function formatClientErrorLine(socket: Socket, status: number | '-', code: string, now: Date): string {
  return `${now.toISOString()} ${peer(socket)} "-" ${status} (${sanitizeForLog(code, 40)})`;
}
