/**
 * A hardened HTTP/1.1 server factory for the small servers certfleet runs on the open internet
 * (forward, respond). It bounds what one client can hold: header size, time to send headers and a
 * request, idle sockets, connections per listener and requests per connection. A throwing handler
 * costs one 500, never the process.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { formatListen, type ListenAddress } from './listen.ts';
import { formatClientErrorLine, formatRequestLine } from './request-log.ts';

/** Resource bounds for every connection and listener. */
export interface ServerLimits {
  /** Time a client has to send complete request headers (slowloris bound). */
  headersTimeoutMs: number;
  /** Time a client has to send a complete request, headers and body. */
  requestTimeoutMs: number;
  /** A socket with no traffic in either direction for this long is destroyed (half-open bound). */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection is kept after a response. */
  keepAliveTimeoutMs: number;
  /** Largest request line plus headers, in bytes; more gets 431. */
  maxHeaderSize: number;
  /** Open connections per listener; further ones are dropped on accept. */
  maxConnections: number;
  /** Requests served on one keep-alive connection before it is closed. */
  maxRequestsPerSocket: number;
}

/**
 * Defaults sized for an ACME validation burst: a CA sends a handful of requests from a few
 * vantage points, each a short GET, so anything slower or bigger is not a CA.
 */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  idleTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 8 * 1024,
  maxConnections: 512,
  maxRequestsPerSocket: 100,
};

/** A synchronous request handler; it must answer every request it is given. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Servers bound on every requested address. */
export interface RunningServers {
  /** Addresses actually bound, with the real port where 0 was asked. */
  readonly addresses: ListenAddress[];
  /** Stops listening and destroys every connection, busy or idle; resolves once all are closed. */
  close(): Promise<void>;
}

/** Options for {@link startHttpServers}. */
export interface StartOptions {
  addresses: readonly ListenAddress[];
  handler: RequestHandler;
  /** Receives one line per request, rejected connection and skipped optional address. */
  log: (line: string) => void;
  limits?: Partial<ServerLimits>;
}

/** Errors that mean "this host has no IPv6", tolerated for optional addresses. */
const NO_ADDRESS_FAMILY = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

function makeServer(handler: RequestHandler, log: (line: string) => void, limits: ServerLimits): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  });
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // No 'timeout' listener on the server: Node then destroys the idle socket itself.
  server.setTimeout(limits.idleTimeoutMs);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.once('close', () => log(formatRequestLine(req, res, new Date())));
    try {
      handler(req, res);
    } catch {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'Content-Length': 0, Connection: 'close' }).end();
    }
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err.code);
    log(formatClientErrorLine(socket, status, err.code ?? 'bad request', new Date()));
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
    socket.end(head, () => socket.destroy());
  });
  return server;
}

function bind(server: Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, ipv6Only: isIP(address.host) === 6 }, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : address.port);
    });
  });
}

function shut(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Binds one hardened server per address, all sharing `handler`. An optional address that fails
 * because its address family is missing is skipped with a log line.
 * @throws the bind error (EADDRINUSE, EACCES, …) with the address in its message, after closing
 *   whatever was already bound; `cause` keeps the original error and its `code`.
 */
export async function startHttpServers(options: StartOptions): Promise<RunningServers> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const servers: Server[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const address of options.addresses) {
      const server = makeServer(options.handler, options.log, limits);
      try {
        const port = await bind(server, address);
        servers.push(server);
        addresses.push({ ...address, port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (address.optional && NO_ADDRESS_FAMILY.has(code)) {
          options.log(`skipping ${formatListen(address)}: ${code} (no IPv6 on this host?)`);
          continue;
        }
        throw new Error(`${formatListen(address)}: cannot listen: ${code || (err as Error).message}`, { cause: err });
      }
    }
    if (servers.length === 0) throw new Error('no address could be bound');
  } catch (err) {
    await Promise.all(servers.map(shut));
    throw err;
  }
  return {
    addresses,
    close: async () => {
      await Promise.all(servers.map(shut));
    },
  };
}
