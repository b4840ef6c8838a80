/** Minimal HTTP(S) requests for the harness: no redirects, a CA to trust, a hard timeout. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A response with its body read as UTF-8. */
export interface TextResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends one request to `url` (http: or https:) and resolves with status, headers and body text.
 * For https, only `ca` is trusted when given. Rejects on connection errors and after `timeoutMs`.
 */
export function fetchText(
  url: string,
  opts: { method?: string; body?: string; ca?: string; timeoutMs?: number } = {},
): Promise<TextResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: opts.method ?? 'GET',
        ca: opts.ca,
        agent: false,
        timeout: opts.timeoutMs ?? 5000,
        headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${req.method} ${url}: no response in ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Like fetchText, but throws unless the status is 200; returns the body. */
export async function fetchOk(url: string, opts: Parameters<typeof fetchText>[1] = {}): Promise<string> {
  const res = await fetchText(url, opts);
  if (res.status !== 200) {
    throw new Error(`${opts.method ?? 'GET'} ${url}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return res.body;
}
