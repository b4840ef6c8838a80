/** Test helpers for server tests: captured output streams, loopback servers, IPv6 detection. */
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { startHttpServers, type RequestHandler, type RunningServers, type ServerLimits } from '../../../src/server/http-server.ts';

/** A writable stream that keeps what was written and can wait for a pattern. */
export function capture(): { stream: PassThrough; text: () => string; waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const waitFor = async (re: RegExp, ms = 3000): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = re.exec(text);
      if (m) return m;
      if (Date.now() > until) throw new Error(`no ${re} in output within ${ms} ms:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { stream, text: () => text, waitFor };
}

/** Resolves whether `::1` can be bound here (some CI containers have no IPv6). */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '::1', port: 0 }, () => probe.close(() => resolve(true)));
  });
}

/** Starts `handler` on 127.0.0.1 (and ::1 when asked) with ephemeral ports; logs go to `lines`. */
export async function startLoopback(
  handler: RequestHandler,
  options: { ipv6?: boolean; limits?: Partial<ServerLimits> } = {},
): Promise<{ servers: RunningServers; port: number; port6: number; lines: string[] }> {
  const lines: string[] = [];
  const addresses = [{ host: '127.0.0.1', port: 0 }, ...(options.ipv6 ? [{ host: '::1', port: 0 }] : [])];
  const servers = await startHttpServers({ addresses, handler, log: (l) => lines.push(l), limits: options.limits });
  return { servers, port: servers.addresses[0].port, port6: servers.addresses[1]?.port ?? 0, lines };
}

/** Polls `check` every 10 ms until it is true or `ms` pass (then throws `what`). */
export async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
