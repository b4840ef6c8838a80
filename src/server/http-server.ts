/**
 * A hardened HTTP/1.1 server factory for the small servers certfleet runs on the open internet
 * (forward, respond). It bounds what one client can hold: header size, time to send headers and a
 * request, idle sockets and requests per connection. When connections run short (a cap that
 * fits the process's file-descriptor limit) it sheds the oldest idle or slow ones, not the new
 * ones, so a CA still gets through while others hold the port (see connection-pool.ts). A
 * throwing handler costs one 500, never the process.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { ConnectionPool } from './connection-pool.ts';
import { connectionFdBudget } from './fd-budget.ts';
import { formatListen, type ListenAddress } from './listen.ts';
import { formatClientErrorLine, formatRequestLine } from './request-log.ts';

/** Resource bounds for every connection and listener. */
export interface ServerLimits {
  /** Time a client has to send complete request headers once it began (slowloris bound). */
  headersTimeoutMs: number;
  /** Time a client has to send a complete request, headers and body; at least headersTimeoutMs. */
  requestTimeoutMs: number;
  /**
   * A socket with no traffic in either direction for this long is destroyed: a connection that
   * never sends a byte, or a half-open one.
   */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection is kept after a response. */
  keepAliveTimeoutMs: number;
  /** Largest request line plus headers, in bytes; more gets 431. */
  maxHeaderSize: number;
  /**
   * Open connections across all listeners (lowered to fit the process's file-descriptor limit).
   * At the cap, the connection waiting longest without a request in progress is closed to make
   * room for a new one; a new one is refused only when all have a request in progress.
   */
  maxConnections: number;
  /** Accept queue length asked of the kernel (capped by net.core.somaxconn), for bursts of connects. */
  listenBacklog: number;
  /** Requests served on one keep-alive connection before it is closed. */
  maxRequestsPerSocket: number;
}

/**
 * Defaults sized for an ACME validation burst: a CA sends a handful of requests from a few
 * vantage points, each a short GET written at once on a fresh connection, so anything slower or
 * bigger is not a CA. Five seconds leave room for a slow long-haul link. 4,096 idle connections
 * cost about 40 MB here (bench/challenge-load.ts); the fd limit usually binds first.
 */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 5_000,
  idleTimeoutMs: 5_000,
  keepAliveTimeoutMs: 2_000,
  maxHeaderSize: 8 * 1024,
  maxConnections: 4_096,
  listenBacklog: 4_096,
  maxRequestsPerSocket: 100,
};

/** A synchronous request handler; it must answer every request it is given. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Servers bound on every requested address. */
export interface RunningServers {
  /** Addresses actually bound, with the real port where 0 was asked. */
  readonly addresses: ListenAddress[];
  /** Most connections held open at once, over all addresses (limits and fd budget applied). */
  readonly connectionCap: number;
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
  /** Serve HTTPS with this certificate chain (PEM, leaf first) and key; plain HTTP without. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Log one line per request (default true); false when the handler logs its own. */
  logRequests?: boolean;
}

/** Errors that mean "this host has no IPv6", tolerated for optional addresses. */
const NO_ADDRESS_FAMILY = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * The TCP socket under a request's socket: the pool admits TCP sockets as they are accepted, and
 * over TLS a request arrives on the TLSSocket wrapped around one (Node keeps it as `_parent`).
 */
function tcpSocket(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

function makeServer(options: StartOptions, limits: ServerLimits, pool: ConnectionPool): Server {
  const { handler, log, tls } = options;
  const settings = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  // A TLS handshake counts against the time to send headers: a client that never finishes one is a slowloris too.
  const server: Server = tls
    ? createTlsServer({ ...settings, cert: tls.cert, key: tls.key, handshakeTimeout: limits.headersTimeoutMs })
    : createServer(settings);
  // Not server.maxConnections: it refuses the newest connections, the pool sheds the oldest idle.
  // Over TLS 'connection' is the TCP socket, so a handshake in progress counts as waiting.
  const open = new Set<Socket>();
  sockets.set(server, open);
  server.on('connection', (socket: Socket) => {
    if (!pool.admit(socket)) return;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  if (tls) {
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      log(formatClientErrorLine(socket, '-', `TLS ${err.code ?? 'handshake failed'}`, new Date()));
      socket.destroy();
    });
  }
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // No 'timeout' listener on the server: Node then destroys the idle socket itself.
  server.setTimeout(limits.idleTimeoutMs);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = tcpSocket(req.socket);
    pool.requestStarted(socket);
    res.once('close', () => {
      pool.requestEnded(socket);
      if (options.logRequests !== false) log(formatRequestLine(req, res, new Date()));
    });
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

function bind(server: Server, address: ListenAddress, backlog: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, backlog, ipv6Only: isIP(address.host) === 6 }, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : address.port);
    });
  });
}

/** TCP sockets of each server, so close() also ends those still in a TLS handshake, which closeAllConnections() does not know. */
const sockets = new WeakMap<Server, Set<Socket>>();

function shut(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of sockets.get(server) ?? []) socket.destroy();
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
  const pool = new ConnectionPool(Math.min(limits.maxConnections, connectionFdBudget()), options.log);
  const servers: Server[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const address of options.addresses) {
      const server = makeServer(options, limits, pool);
      try {
        const port = await bind(server, address, limits.listenBacklog);
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
    pool.close();
    throw err;
  }
  return {
    addresses,
    connectionCap: pool.cap,
    close: async () => {
      await Promise.all(servers.map(shut));
      pool.close();
    },
  };
}
