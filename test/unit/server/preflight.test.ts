import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import * as x509 from '@peculiar/x509';
import { describePreflightFailure, preflight, MAX_REDIRECTS } from '../../../src/challenge/preflight.ts';
import { createForwardHandler } from '../../../src/server/forward.ts';
import { createRespondHandler } from '../../../src/server/respond.ts';
import { startDnsStandIn } from './dns-stand-in.ts';
import { startLoopback } from './harness.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTHORIZATION = `${TOKEN}.THUMB`;

/** A self-signed certificate for `name`, so the https redirect case needs no CA. */
async function selfSigned(name: string): Promise<{ key: string; cert: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: alg,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`, cert: cert.toString('pem') };
}

describe('preflight', () => {
  const hosts: string[] = [];
  let good: Awaited<ReturnType<typeof startLoopback>>;
  let forward: Awaited<ReturnType<typeof startLoopback>>;
  let odd: Awaited<ReturnType<typeof startLoopback>>;
  let tls: HttpsServer;
  let tlsPort: number;
  let dns: Awaited<ReturnType<typeof startDnsStandIn>>;

  // `odd` answers by path, one misbehaviour per path; it records the Host header it saw.
  const oddHandler = (req: IncomingMessage, res: ServerResponse): void => {
    hosts.push(String(req.headers.host));
    const host = String(req.headers.host);
    const send = (status: number, headers: Record<string, string>, body = ''): void => {
      res.writeHead(status, headers).end(body);
    };
    if (host === 'newline.test') return send(200, {}, `${KEY_AUTHORIZATION}\r\n`);
    if (host === 'wrong.test') return send(200, {}, 'x'.repeat(150));
    if (host === 'error.test') return send(503, {});
    if (host.startsWith('loop.test')) return send(302, { Location: req.url ?? '/' });
    if (host === 'ftp.test') return send(301, { Location: 'ftp://central.test/x' });
    if (host === 'nowhere.test') return send(301, { Location: 'http://unknown.test/x' });
    if (host === 'https.test') return send(307, { Location: `https://secure.test:${tlsPort}${req.url}` });
    if (host === 'silent.test') return; // never answers; the pre-flight timeout must end it
    if (host === 'dnsslow.test') return send(301, { Location: 'http://blackhole.test/x' });
    send(404, {});
  };

  before(async () => {
    good = await startLoopback(createRespondHandler('THUMB'));
    forward = await startLoopback(createForwardHandler(`http://central.test:${good.port}`));
    odd = await startLoopback(oddHandler);
    const { key, cert } = await selfSigned('secure.test');
    tls = createHttpsServer({ key, cert }, createRespondHandler('THUMB'));
    await new Promise<void>((resolve) => tls.listen({ host: '127.0.0.1', port: 0 }, resolve));
    tlsPort = (tls.address() as { port: number }).port;
    dns = await startDnsStandIn({
      'two.test': ['127.0.0.1', '127.0.0.2'],
      'fwd.test': ['127.0.0.1'],
      'central.test': ['127.0.0.1'],
      'secure.test': ['127.0.0.1'],
      ...Object.fromEntries(
        ['newline', 'wrong', 'error', 'loop', 'ftp', 'nowhere', 'https', 'silent'].map((n) => [`${n}.test`, ['127.0.0.1']]),
      ),
      'empty.test': [],
      'dnsslow.test': ['127.0.0.1'],
      'blackhole.test': 'drop',
    });
  });
  after(async () => {
    tls.closeAllConnections();
    await Promise.all([good.servers.close(), forward.servers.close(), odd.servers.close(), dns.close(), new Promise((r) => tls.close(r))]);
  });

  const run = (names: string[], port: number, timeoutMs = 2000) =>
    preflight({ names, token: TOKEN, keyAuthorization: KEY_AUTHORIZATION, port, resolver: dns.address, timeoutMs });

  test('one right and one dead address: fails and names the dead one', async () => {
    const result = await run(['two.test'], good.port);
    assert.equal(result.ok, false);
    assert.deepEqual(result.checked, [
      { name: 'two.test', address: '127.0.0.1' },
      { name: 'two.test', address: '127.0.0.2' },
    ]);
    assert.equal(result.failures.length, 1);
    const [failure] = result.failures;
    assert.equal(failure.address, '127.0.0.2');
    assert.deepEqual(failure.answer, {
      kind: 'network',
      url: `http://two.test:${good.port}/.well-known/acme-challenge/${TOKEN}`,
      error: 'ECONNREFUSED (connect)',
    });
    assert.equal(describePreflightFailure(failure), `two.test 127.0.0.2: ${failure.answer.kind === 'network' && failure.answer.url}: ECONNREFUSED (connect)`);
  });

  test('a redirect to another host and port is followed to the right answer', async () => {
    assert.deepEqual(await run(['fwd.test'], forward.port), { ok: true, checked: [{ name: 'fwd.test', address: '127.0.0.1' }], failures: [] });
  });

  test('an https redirect is followed without checking the certificate, like the CA', async () => {
    const result = await run(['https.test'], odd.port);
    assert.deepEqual(result.failures, []);
  });

  test('the first request carries Host: <name>, trailing whitespace in the body is ignored', async () => {
    hosts.length = 0;
    assert.equal((await run(['newline.test'], odd.port)).ok, true);
    assert.deepEqual(hosts, ['newline.test']);
  });

  test('each kind of wrong answer is reported with what was answered', async () => {
    const url = (name: string) => `http://${name}:${odd.port}/.well-known/acme-challenge/${TOKEN}`;
    const result = await run(['wrong.test', 'error.test', 'loop.test', 'ftp.test', 'nowhere.test', 'unknown.test', 'empty.test'], odd.port);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.failures.map((f) => [f.name, f.address, f.answer]),
      [
        ['empty.test', null, { kind: 'dns', error: 'no A or AAAA record' }],
        ['error.test', '127.0.0.1', { kind: 'status', url: url('error.test'), status: 503 }],
        ['ftp.test', '127.0.0.1', { kind: 'redirect', url: url('ftp.test'), error: 'redirect to unsupported scheme ftp:' }],
        ['loop.test', '127.0.0.1', { kind: 'redirect', url: url('loop.test'), error: `more than ${MAX_REDIRECTS} redirects` }],
        ['nowhere.test', '127.0.0.1', { kind: 'redirect', url: 'http://unknown.test/x', error: 'cannot resolve unknown.test: no such name (NXDOMAIN)' }],
        ['unknown.test', null, { kind: 'dns', error: 'no such name (NXDOMAIN)' }],
        ['wrong.test', '127.0.0.1', { kind: 'body', url: url('wrong.test'), excerpt: `${'x'.repeat(100)}…` }],
      ],
    );
  });

  test('a server that never answers fails within the timeout', async () => {
    const started = Date.now();
    const result = await run(['silent.test'], odd.port, 300);
    assert.ok(Date.now() - started < 1500);
    assert.deepEqual(result.failures.map((f) => f.answer), [
      { kind: 'network', url: `http://silent.test:${odd.port}/.well-known/acme-challenge/${TOKEN}`, error: 'no answer within 300 ms' },
    ]);
  });

  test('a redirect whose DNS never answers fails within the timeout', async () => {
    const started = Date.now();
    const result = await run(['dnsslow.test'], odd.port, 300);
    assert.ok(Date.now() - started < 1500);
    assert.deepEqual(result.failures.map((f) => f.answer), [
      { kind: 'redirect', url: 'http://blackhole.test/x', error: 'cannot resolve blackhole.test: no answer within 300 ms' },
    ]);
  });

  test('caller mistakes throw', async () => {
    await assert.rejects(preflight({ names: [], token: '../x', keyAuthorization: '', port: 80, timeoutMs: 100 }), /challenge token/);
    await assert.rejects(preflight({ names: ['*.example.com'], token: TOKEN, keyAuthorization: '', port: 80, timeoutMs: 100 }), {
      message: 'preflight: "*.example.com": not a host name',
    });
    await assert.rejects(
      preflight({ names: [], token: TOKEN, keyAuthorization: '', port: 80, resolver: 'not an address', timeoutMs: 100 }),
      /^Error: preflight: resolver "not an address": /,
    );
  });
});
