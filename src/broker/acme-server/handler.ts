/**
 * The broker's device-facing ACME server (RFC 8555, issue 9): devices (certbot, lego,
 * certfleet) register accounts bound to their enrollment through EAB, order certificates for
 * the names they were enrolled for, and finalize with their own CSR; the broker's worker gets
 * the certificate upstream. Also serves renewalInfo (RFC 9773) and certfleet's `/address`.
 *
 * This file is the request boundary: routing, body limits, problem documents, a fresh
 * Replay-Nonce on every response of an endpoint and one log line per request. Endpoints live
 * beside it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from '../../server/http-server.ts';
import { sanitizeForLog } from '../../server/request-log.ts';
import { accountResource, newAccount } from './account.ts';
import { address } from './address.ts';
import { readBody } from './body.ts';
import { certificateResource, renewalInfoResource } from './certificate.ts';
import { directory, issueNonce, newNonce } from './directory.ts';
import { finalize } from './finalize.ts';
import type { Answer, DeviceAcmeOptions, Exchange } from './options.ts';
import { accountOrders, authorizationResource, challengeResource, newOrder, orderResource } from './order.ts';
import { AcmeProblem, malformed } from './problem.ts';
import { acmeUrls, matchRoute, type AcmeUrls, type Endpoint, type Route } from './urls.ts';

export type { DeviceAcmeOptions } from './options.ts';

type Serve = (x: Exchange) => Answer | Promise<Answer>;

/** Each endpoint with the methods it takes. */
const ENDPOINTS: Readonly<Record<Endpoint, { methods: readonly string[]; serve: Serve }>> = {
  directory: { methods: ['GET', 'HEAD'], serve: directory },
  newNonce: { methods: ['GET', 'HEAD'], serve: newNonce },
  newAccount: { methods: ['POST'], serve: newAccount },
  account: { methods: ['POST'], serve: accountResource },
  accountOrders: { methods: ['POST'], serve: accountOrders },
  newOrder: { methods: ['POST'], serve: newOrder },
  order: { methods: ['POST'], serve: orderResource },
  finalize: { methods: ['POST'], serve: finalize },
  authorization: { methods: ['POST'], serve: authorizationResource },
  challenge: { methods: ['POST'], serve: challengeResource },
  certificate: { methods: ['POST'], serve: certificateResource },
  renewalInfo: { methods: ['GET', 'HEAD'], serve: renewalInfoResource },
  address: { methods: ['POST'], serve: address },
};

async function answer(opts: DeviceAcmeOptions, urls: AcmeUrls, req: IncomingMessage, route: Route | null, now: Date): Promise<Answer> {
  if (!route) throw malformed('no such resource', 404);
  const endpoint = ENDPOINTS[route.endpoint];
  const method = req.method ?? '';
  if (!endpoint.methods.includes(method)) {
    throw new AcmeProblem('malformed', `${route.endpoint} takes ${endpoint.methods.join(' or ')}`, { status: 405 });
  }
  const body = method === 'POST' ? await readBody(req) : Buffer.alloc(0);
  return endpoint.serve({ opts, urls, route, req, body, now });
}

function problemAnswer(problem: AcmeProblem): Answer {
  const headers: Record<string, string> = problem.status === 405 || problem.status === 413 ? { Connection: 'close' } : {};
  return { status: problem.status, text: problem.body(), contentType: 'application/problem+json', headers };
}

function send(req: IncomingMessage, res: ServerResponse, a: Answer, nonce: string | null, index: string): void {
  const body = a.json !== undefined ? JSON.stringify(a.json) : (a.text ?? '');
  const type = a.json !== undefined ? 'application/json' : a.contentType;
  const links = [`<${index}>;rel="index"`, ...(a.headers?.Link ? [a.headers.Link] : [])];
  const headers: Record<string, string | number | string[]> = {
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
    ...(type ? { 'Content-Type': type } : {}),
    ...(nonce ? { 'Replay-Nonce': nonce } : {}),
    ...a.headers,
    Link: links,
  };
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = a.status;
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function exchange(opts: DeviceAcmeOptions, urls: AcmeUrls, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const now = opts.now();
  const route = matchRoute(opts.publicUrl, req.url ?? '/');
  let a: Answer;
  let note = '';
  try {
    a = await answer(opts, urls, req, route, now);
  } catch (err) {
    const problem = err instanceof AcmeProblem ? err : new AcmeProblem('serverInternal', 'internal error; the broker logged it');
    if (!(err instanceof AcmeProblem)) note = ` (${sanitizeForLog((err as Error)?.message ?? String(err))})`;
    note = ` ${problem.type}${note}`;
    a = problemAnswer(problem);
  }
  let nonce: string | null = null;
  try {
    // Paths that name no endpoint (scanners) get none: nonces are state kept for an hour.
    if (route) nonce = await issueNonce(opts.store, now);
  } catch (err) {
    a = problemAnswer(new AcmeProblem('serverInternal', 'cannot issue a nonce; the broker logged it'));
    note = ` serverInternal (nonce: ${sanitizeForLog((err as Error).message)})`;
  }
  if (!res.destroyed) send(req, res, a, nonce, urls.directory);
  opts.log(`${sanitizeForLog(`${req.method ?? '-'} ${(req.url ?? '-').split('?')[0]}`)} ${a.status}${note}`);
}

/**
 * The request handler for the device-facing ACME server at `opts.publicUrl`. Every request is
 * answered, failures as RFC 7807 problem documents; nothing it throws reaches the server.
 */
export function createDeviceAcmeHandler(opts: DeviceAcmeOptions): RequestHandler {
  const urls = acmeUrls(opts.publicUrl);
  return (req, res) => {
    exchange(opts, urls, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0, Connection: 'close' }).end();
      else res.destroy();
    });
  };
}
