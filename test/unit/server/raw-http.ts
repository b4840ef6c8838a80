/** Test helpers: talk HTTP/1.1 over a plain socket, so junk reaches the server unnormalised. */
import { connect, type Socket } from 'node:net';

/** A parsed response: status code, lower-cased headers, body text. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `text` as is and returns everything the server writes until it closes (bounded). */
export function exchange(host: string, port: number, text: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(text);
  });
}

/** Parses the first response in `raw`. */
export function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 80))}`);
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(split + 4) };
}

/** Sends one request with `Connection: close` and parses the answer. */
export async function request(
  host: string,
  port: number,
  method: string,
  target: string,
  extraHeaders = '',
): Promise<RawResponse> {
  const hostHeader = host.includes(':') ? `[${host}]` : host;
  const raw = await exchange(host, port, `${method} ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n${extraHeaders}\r\n`);
  return parseResponse(raw);
}

/** A client socket held open by a test, with the moment the server closed it. */
export type HeldSocket = Socket & { closedAt?: number };

/**
 * Opens a connection and resolves once it is connected. `partial` is sent at once and never
 * finished (a slow-header client); without it the socket stays silent (an idle client).
 */
export function holdOpen(port: number, partial?: string): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const socket: HeldSocket = connect({ host: '127.0.0.1', port }, () => {
      if (partial) socket.write(partial);
      resolve(socket);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      socket.closedAt = Date.now();
    });
    socket.resume();
  });
}
