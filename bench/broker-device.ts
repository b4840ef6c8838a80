// A simulated fleet device for bench/broker.ts: a lean ACME client on `jose` (RFC 8555) that
// registers with EAB, orders its one name, finalizes with its own CSR, polls as Retry-After says
// and downloads the chain, over one keep-alive HTTPS connection to 127.0.0.1 (as a device would).
// Keys and the CSR are made beforehand (makeDeviceKit), so the clock covers ACME only.
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, FlattenedSign, type JWK } from 'jose';
import { createCsrPem } from '../src/crypto/csr.ts';

/** What one device brings: its keys, its CSR and its enrollment. */
export interface DeviceKit {
  id: string;
  name: string;
  accountKey: KeyObject;
  jwk: JWK;
  /** base64url DER of the CSR for `name`, signed by the device's certificate key. */
  csr: string;
  /** The certificate key's public SPKI (DER), to check the chain holds it. */
  spki: Buffer;
  eab: { kid: string; hmacKey: string } | null;
}

/** Generates the account key (P-256), the certificate key (P-256) and the CSR of one device. */
export async function makeDeviceKit(id: string, name: string): Promise<DeviceKit> {
  const account = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = await createCsrPem([name], cert.privateKey);
  const csr = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64url');
  return {
    id, name, accountKey: account.privateKey, jwk: await exportJWK(account.publicKey), csr,
    spki: cert.publicKey.export({ type: 'spki', format: 'der' }), eab: null,
  };
}

/** Moments (performance.now() ms) and counts of one device's run. */
export interface DeviceRun {
  id: string;
  ok: boolean;
  error: string | null;
  start: number;
  /** The finalize request answered (the broker queued the order). */
  finalized: number;
  /** The chain downloaded. */
  done: number;
  requests: number;
  polls: number;
  badNonces: number;
  /** Requests sent again because the server had closed the kept-alive connection. */
  retries: number;
  chainPem: string;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const header = (r: Reply, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Runs one device against the broker's directory; never throws (failures are in the result). */
export async function runDevice(kit: DeviceKit, directoryUrl: string, ca: string, timeoutMs: number): Promise<DeviceRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const run: DeviceRun = { id: kit.id, ok: false, error: null, start: performance.now(), finalized: 0, done: 0, requests: 0, polls: 0, badNonces: 0, retries: 0, chainPem: '' };
  const deadline = run.start + timeoutMs;
  let nonce: string | undefined;

  // A kept-alive connection the server closed just as a request went out is retried once on a
  // new one, as Node's documentation advises (the server never saw the request).
  const http = async (method: string, url: string, body?: string): Promise<Reply> => {
    try {
      return await once(method, url, body);
    } catch (err) {
      if (!(err as { reused?: boolean }).reused) throw err;
      run.retries++;
      return once(method, url, body);
    }
  };
  const once = (method: string, url: string, body?: string): Promise<Reply> =>
    new Promise((resolve, reject) => {
      run.requests++;
      const req = request(url, { method, agent, timeout: 60_000, headers: body === undefined ? {} : { 'Content-Type': 'application/jose+json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const reply = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
          nonce = header(reply, 'replay-nonce') ?? nonce;
          resolve(reply);
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reused: req.reusedSocket && err.code === 'ECONNRESET' })));
      req.end(body);
    });

  let dir: Record<string, string> = {};
  let kid: string | undefined;
  /** A signed POST; a badNonce is answered by sending again with the fresh nonce (RFC 8555 §6.5). */
  const post = async (url: string, payload: unknown, embedJwk = false): Promise<Reply> => {
    for (let attempt = 1; ; attempt++) {
      if (!nonce) await http('HEAD', dir.newNonce);
      const protectedHeader = { alg: 'ES256', nonce, url, ...(embedJwk ? { jwk: kit.jwk } : { kid }) };
      nonce = undefined;
      const bytes = payload === '' ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload));
      const jws = await new FlattenedSign(bytes).setProtectedHeader(protectedHeader).sign(kit.accountKey);
      const reply = await http('POST', url, JSON.stringify(jws));
      if (reply.status === 400 && reply.body.includes(':badNonce') && attempt < 5) {
        run.badNonces++;
        continue;
      }
      if (reply.status >= 400) throw new Error(`POST ${url.replace(/^https?:\/\/[^/]+/, '')}: ${reply.status} ${reply.body.slice(0, 300)}`);
      return reply;
    }
  };

  try {
    const d = await http('GET', directoryUrl);
    if (d.status !== 200) throw new Error(`directory: ${d.status}`);
    dir = JSON.parse(d.body) as Record<string, string>;
    await http('HEAD', dir.newNonce);
    const eab = kit.eab!;
    const binding = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(kit.jwk)))
      .setProtectedHeader({ alg: 'HS256', kid: eab.kid, url: dir.newAccount })
      .sign(createSecretKey(Buffer.from(eab.hmacKey, 'base64url')));
    const acct = await post(dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: binding }, true);
    kid = header(acct, 'location');
    const created = await post(dir.newOrder, { identifiers: [{ type: 'dns', value: kit.name }] });
    const orderUrl = header(created, 'location')!;
    let order = JSON.parse(created.body) as { status: string; authorizations: string[]; finalize: string; certificate?: string };
    // As certbot and lego do: read the authorizations (valid already) before finalizing.
    for (const authz of order.authorizations) await post(authz, '');
    const fin = await post(order.finalize, { csr: kit.csr });
    run.finalized = performance.now();
    order = JSON.parse(fin.body) as typeof order;
    let retryAfter = Number(header(fin, 'retry-after') ?? 1);
    while (order.status === 'processing' || order.status === 'ready') {
      if (performance.now() + retryAfter * 1000 > deadline) throw new Error(`no certificate within ${timeoutMs / 1000} s`);
      await sleep(Math.max(0.1, retryAfter) * 1000);
      const polled = await post(orderUrl, '');
      run.polls++;
      order = JSON.parse(polled.body) as typeof order;
      retryAfter = Number(header(polled, 'retry-after') ?? 1);
    }
    if (order.status !== 'valid' || !order.certificate) throw new Error(`order ended ${order.status}: ${JSON.stringify(order).slice(0, 300)}`);
    run.chainPem = (await post(order.certificate, '')).body;
    run.done = performance.now();
    run.ok = true;
  } catch (err) {
    run.error = (err as Error).message;
  } finally {
    agent.destroy();
  }
  return run;
}
