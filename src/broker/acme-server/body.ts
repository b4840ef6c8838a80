/**
 * Reading a request body with a bound: a public ACME server must not buffer what a client
 * chooses to send. Every legitimate ACME request (a CSR of a 4096-bit key included) is far below
 * the limit.
 */
import type { IncomingMessage } from 'node:http';
import { AcmeProblem } from './problem.ts';

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Resolves the complete body. Rejects with a 413 problem as soon as the declared or received
 * length passes `limit` (the rest is not read; the caller closes the connection).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    // Node reports a client gone mid-body as 'error' (aborted); 'close' before the body was complete is the backstop.
    req.once('close', () => {
      if (!req.complete) reject(new Error('request aborted before its body was complete'));
    });
  });
}

function tooLarge(limit: number): AcmeProblem {
  return new AcmeProblem('malformed', `request body larger than ${limit} bytes`, { status: 413 });
}
