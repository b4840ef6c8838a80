/**
 * ARI STAND-IN (test support only). Debian's Pebble 2.4 has no ARI (RFC 9773) and no profiles,
 * and ignores unknown newOrder fields; this stands in for exactly that and nothing more. It is an
 * HTTPS reverse proxy on 127.0.0.1 in front of the real Pebble of the harness: every request goes
 * to Pebble unchanged, Host header included (Pebble builds its URLs from it, so every URL it
 * returns points here and clients' signed JWS `url` fields still verify). On top it
 *   - adds `renewalInfo` and `meta.profiles` to the directory,
 *   - answers `GET <renewalInfo>/<certID>` from what the test set, or Let's Encrypt's default
 *     window for certificates it saw being downloaded,
 *   - records newOrder payloads (identifiers, replaces, profile) and can refuse newOrders.
 */
import { Agent, createServer, request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fetchOk } from './http.ts';
import type { TestServers } from './servers.ts';
import { certIdOf, defaultRenewalWindow, firstCertificate } from './ari-cert-id.ts';

export { certIdOf, defaultRenewalWindow } from './ari-cert-id.ts';

/** A window the stand-in serves for one CertID (RFC 9773 §4.2). */
export interface RenewalWindow {
  start: Date;
  end: Date;
  explanationURL?: string;
  /** Retry-After of the answer; default: the stand-in's `retryAfterSeconds`. */
  retryAfterSeconds?: number;
}

/** One newOrder request as the stand-in saw it. */
export interface RecordedOrder {
  /** The payload's identifiers, as sent. */
  identifiers: { type: string; value: string }[];
  replaces?: string;
  profile?: string;
  at: Date;
  /** HTTP status the client got: 201 from Pebble, 400 for a badNonce (the client retries), or an injected refusal. */
  status: number;
}

/** A certificate whose download passed through the stand-in (the leaf of the chain). */
export interface SeenCertificate {
  certId: string;
  notBefore: Date;
  notAfter: Date;
  pem: string;
}

/** Options of {@link startAriStandIn}; all optional. */
export interface AriStandInOptions {
  /** Put `renewalInfo` in the directory (default true). The endpoint answers either way. */
  ari?: boolean;
  /** `meta.profiles` of the directory; `false` omits it. Default: classic and shortlived. */
  profiles?: Record<string, string> | false;
  /** Retry-After (seconds) of renewalInfo answers without their own (default 21600, Let's Encrypt's 6 h). */
  retryAfterSeconds?: number;
}

/** A running stand-in; see {@link startAriStandIn}. */
export interface AriStandIn {
  /** The stand-in's directory, https://127.0.0.1:<port>/dir: give this to the client. */
  directoryUrl: string;
  /** The `renewalInfo` URL it advertises, https://127.0.0.1:<port>/renewal-info. */
  renewalInfoUrl: string;
  /** Every newOrder POST, in order of answer (badNonce retries included: filter on `status`). */
  readonly orders: RecordedOrder[];
  /** Every request under renewalInfo (`certId` as it appeared in the path). */
  readonly polls: { certId: string; at: Date }[];
  /** Every distinct leaf certificate downloaded through the stand-in. */
  readonly certificates: SeenCertificate[];
  /** Serves `window` for `certId` from now on, and drops an error set for that CertID. */
  setWindow(certId: string, window: RenewalWindow): void;
  /** Answers renewalInfo for `certId` (or, with '*', every CertID without its own error) with an ACME problem of `status`. */
  setError(certId: string, status: number, retryAfterSeconds?: number): void;
  /** Changes what the directory advertises, as the options of the same names. */
  setDirectory(opts: Pick<AriStandInOptions, 'ari' | 'profiles'>): void;
  /** While set, newOrders carrying `replaces` are refused: 409 alreadyReplaced or 400 malformed. */
  rejectReplaces(kind: 'alreadyReplaced' | 'malformed'): void;
  /** While set, every newOrder is refused with `status` and problem `type` (short or full URN), e.g. 429 'rateLimited'. Checked before rejectReplaces. */
  failNewOrders(status: number, type: string, retryAfterSeconds?: number): void;
  /** Ends rejectReplaces, failNewOrders and every setError. */
  clearFaults(): void;
  /** Back to the start options: faults, windows, orders and polls cleared; `certificates` kept (the CA still knows them). */
  reset(): void;
  /** Closes the listener and its connections. Safe to call twice. */
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length'];
const ACME_ERROR = 'urn:ietf:params:acme:error:';
const RENEWAL_PATH = '/renewal-info';
const DEFAULT_PROFILES = {
  classic: 'stand-in: the default profile, 90-day certificates',
  shortlived: 'stand-in: 160-hour certificates',
};

type Fault = { status: number; type: string; detail: string; retryAfterSeconds?: number };

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Decodes a flattened JWS's payload; null when it is not one. */
function jwsPayload(body: Buffer): Record<string, unknown> | null {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    if (typeof jws.payload !== 'string' || jws.payload === '') return null;
    return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Starts the stand-in in front of `servers`' Pebble on a free 127.0.0.1 port, serving TLS with
 * the harness leaf that `servers.caCertPath` already trusts. Throws when Pebble's directory
 * cannot be read.
 */
export async function startAriStandIn(servers: TestServers, opts: AriStandInOptions = {}): Promise<AriStandIn> {
  const ca = await readFile(servers.caCertPath, 'utf8');
  const upstream = new URL(servers.directoryUrl);
  const agent = new Agent({ ca, keepAlive: true });
  const pebbleDir = JSON.parse(await fetchOk(servers.directoryUrl, { ca })) as Record<string, string>;
  const newOrderPath = new URL(pebbleDir.newOrder).pathname;
  const newNoncePath = new URL(pebbleDir.newNonce).pathname;

  const defaults = { ari: opts.ari ?? true, profiles: opts.profiles ?? DEFAULT_PROFILES };
  let directory = { ...defaults };
  const retryAfterDefault = opts.retryAfterSeconds ?? 21_600;
  const windows = new Map<string, RenewalWindow>();
  const errors = new Map<string, Fault>();
  let replacesFault: Fault | null = null;
  let orderFault: Fault | null = null;
  const orders: RecordedOrder[] = [];
  const polls: { certId: string; at: Date }[] = [];
  const certificates: SeenCertificate[] = [];

  /** One request to Pebble, fully buffered. */
  const forward = (method: string, path: string, headers: IncomingHttpHeaders, body?: Buffer) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const options: RequestOptions = { host: upstream.hostname, port: upstream.port, method, path, agent, headers };
      const req = request(options, (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  const send = (res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer | string): void => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...withoutHopByHop(headers), 'content-length': String(bytes.length) });
    res.end(bytes);
  };

  /** An ACME problem document, with a fresh Pebble nonce when `nonce` so a client can go on. */
  const problem = async (res: ServerResponse, host: string, f: Fault, nonce: boolean): Promise<void> => {
    const headers: IncomingHttpHeaders = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
    if (nonce) {
      const fresh = await forward('HEAD', newNoncePath, { host });
      headers['replay-nonce'] = fresh.headers['replay-nonce'];
      headers.link = `<https://${host}${upstream.pathname}>;rel="index"`;
    }
    if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds);
    send(res, f.status, headers, JSON.stringify({ type: f.type, detail: f.detail, status: f.status }));
  };

  const renewalInfo = async (req: IncomingMessage, res: ServerResponse, host: string, certId: string) => {
    polls.push({ certId, at: new Date() });
    if (req.method !== 'GET') {
      return problem(res, host, { status: 405, type: `${ACME_ERROR}malformed`, detail: 'stand-in: renewalInfo takes GET only' }, false);
    }
    const error = errors.get(certId) ?? errors.get('*');
    if (error) return problem(res, host, error, false);
    const seen = certificates.find((c) => c.certId === certId);
    const window: RenewalWindow | null = windows.get(certId) ?? (seen ? defaultRenewalWindow(seen.notBefore, seen.notAfter) : null);
    if (!window) {
      return problem(res, host, { status: 404, type: `${ACME_ERROR}malformed`, detail: `stand-in: no certificate known with CertID ${certId}` }, false);
    }
    const answer = {
      suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
      ...(window.explanationURL ? { explanationURL: window.explanationURL } : {}),
    };
    const retryAfter = window.retryAfterSeconds ?? retryAfterDefault;
    send(res, 200, { 'content-type': 'application/json', 'retry-after': String(retryAfter) }, JSON.stringify(answer));
  };

  /** Adds renewalInfo and meta.profiles to Pebble's directory. */
  const rewriteDirectory = (body: Buffer, host: string): Buffer => {
    const dir = JSON.parse(body.toString('utf8')) as Record<string, unknown> & { meta?: Record<string, unknown> };
    if (directory.ari) dir.renewalInfo = `https://${host}${RENEWAL_PATH}`;
    if (directory.profiles) dir.meta = { ...dir.meta, profiles: directory.profiles };
    return Buffer.from(JSON.stringify(dir, null, 2));
  };

  /** Indexes the leaf of a downloaded chain by its CertID (one without an AKI stays unknown). */
  const remember = (body: Buffer): void => {
    const text = body.toString('utf8');
    let certId: string;
    try {
      certId = certIdOf(text);
    } catch {
      return;
    }
    if (certificates.some((c) => c.certId === certId)) return;
    const leaf = firstCertificate(text);
    certificates.push({ certId, notBefore: leaf.notBefore, notAfter: leaf.notAfter, pem: `${leaf.toString('pem')}\n` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = req.headers.host ?? `127.0.0.1:${port}`;
    const path = new URL(req.url ?? '/', 'https://stand-in').pathname;
    if (path.startsWith(`${RENEWAL_PATH}/`)) return renewalInfo(req, res, host, path.slice(RENEWAL_PATH.length + 1));
    const at = new Date();
    const body = await readBody(req);
    const order = req.method === 'POST' && path === newOrderPath ? jwsPayload(body) : null;
    const record = (status: number): void => {
      if (!order) return;
      const identifiers = Array.isArray(order.identifiers) ? (order.identifiers as RecordedOrder['identifiers']) : [];
      const { replaces, profile } = order as { replaces?: string; profile?: string };
      orders.push({ identifiers, ...(replaces === undefined ? {} : { replaces }), ...(profile === undefined ? {} : { profile }), at, status });
    };
    const fault = order ? (orderFault ?? (order.replaces !== undefined ? replacesFault : null)) : null;
    if (fault) {
      record(fault.status);
      return problem(res, host, fault, true);
    }
    const headers = withoutHopByHop(req.headers);
    if (body.length > 0 || req.method === 'POST') headers['content-length'] = String(body.length);
    const answer = await forward(req.method ?? 'GET', req.url ?? '/', { ...headers, host }, body);
    record(answer.status);
    let out = answer.body;
    if (req.method === 'GET' && path === upstream.pathname && answer.status === 200) out = rewriteDirectory(out, host);
    if (answer.status === 200 && String(answer.headers['content-type']).startsWith('application/pem-certificate-chain')) remember(out);
    send(res, answer.status, answer.headers, out);
  };

  const tlsFiles = { cert: await readFile(servers.tlsCertPath), key: await readFile(servers.tlsKeyPath) };
  const server = createServer(tlsFiles, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A test-support failure: show it to the client as a 502 rather than hang it.
      if (!res.headersSent) send(res, 502, { 'content-type': 'text/plain' }, `ari stand-in: ${String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const base = `https://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    directoryUrl: `${base}${upstream.pathname}`,
    renewalInfoUrl: `${base}${RENEWAL_PATH}`,
    orders,
    polls,
    certificates,
    setWindow: (certId, window) => {
      windows.set(certId, window);
      errors.delete(certId);
    },
    setError: (certId, status, retryAfterSeconds) => {
      const type = status === 429 ? 'rateLimited' : status >= 500 ? 'serverInternal' : 'malformed';
      errors.set(certId, { status, type: `${ACME_ERROR}${type}`, detail: `stand-in: renewalInfo error ${status} set by the test`, retryAfterSeconds });
    },
    setDirectory: (d) => {
      directory = { ari: d.ari ?? directory.ari, profiles: d.profiles ?? directory.profiles };
    },
    rejectReplaces: (kind) => {
      replacesFault = kind === 'alreadyReplaced'
        ? { status: 409, type: `${ACME_ERROR}alreadyReplaced`, detail: 'stand-in: the certificate named in replaces was already replaced' }
        : { status: 400, type: `${ACME_ERROR}malformed`, detail: 'stand-in: replaces does not name a certificate this CA knows' };
    },
    failNewOrders: (status, type, retryAfterSeconds) => {
      const until = retryAfterSeconds === undefined ? '' : `: retry after ${new Date(Date.now() + retryAfterSeconds * 1000).toISOString()}`;
      orderFault = { status, type: type.includes(':') ? type : `${ACME_ERROR}${type}`, detail: `stand-in: newOrder refused by the test${until}`, retryAfterSeconds };
    },
    clearFaults: () => {
      replacesFault = orderFault = null;
      errors.clear();
    },
    reset: () => {
      replacesFault = orderFault = null;
      errors.clear();
      windows.clear();
      orders.length = 0;
      polls.length = 0;
      directory = { ...defaults };
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}
