// The ACME adapter's error handling against a stand-in ACME server (plain HTTP on 127.0.0.1):
// it injects the answers Pebble cannot be made to give on demand (rate limits with a long
// Retry-After, 503s). Only the endpoints the tested steps reach are implemented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AcmeNetworkError, AcmeProblemError } from '../../../src/acme/errors.ts';
import { openAcmeSession } from '../../../src/acme/session.ts';
import { generateKeyPem } from '../../../src/crypto/keys.ts';
import type { Solver } from '../../../src/challenge/solver.ts';

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

/** Starts the stand-in; `newOrder` decides each new-order answer. Returns its base URL and request counts. */
async function standIn(newOrder: (n: number) => Answer) {
  const counts = { newOrder: 0, newAccount: 0 };
  const bodies: { newAccount: string[] } = { newAccount: [] };
  let nonce = 0;
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = (a: Answer) => {
      res.writeHead(a.status, { 'Replay-Nonce': `n${++nonce}`, 'Content-Type': a.status >= 400 ? 'application/problem+json' : 'application/json', ...a.headers });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/dir') return send({ status: 200, body: { newNonce: `${base}/nonce`, newAccount: `${base}/acct`, newOrder: `${base}/order` } });
      if (req.url === '/nonce') return send({ status: 200 });
      if (req.url === '/acct') {
        counts.newAccount++;
        bodies.newAccount.push(Buffer.concat(chunks).toString('utf8'));
        return send({ status: 201, headers: { Location: `${base}/acct/1` }, body: { status: 'valid' } });
      }
      if (req.url === '/order') return send(newOrder(++counts.newOrder));
      send({ status: 404, body: { type: 'urn:ietf:params:acme:error:malformed', detail: 'not in the stand-in' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  return { url, counts, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const noSolver: Solver = { type: 'http-01', present: async () => {}, cleanup: async () => {} };

async function session(directoryUrl: string, logs: string[] = [], extra: { eab?: { kid: string; hmacKey: string }; contact?: string[]; rsa?: boolean } = {}) {
  return openAcmeSession({
    directoryUrl,
    accountKeyPem: await generateKeyPem(extra.rsa ? { kind: 'rsa', bits: 2048 } : { kind: 'ec', curve: 'prime256v1' }),
    contact: extra.contact ?? [],
    eab: extra.eab ?? null,
    requestTimeoutMs: 5000,
    orderTimeoutMs: 20_000,
    maxRetryWaitMs: 10_000,
    log: (m) => logs.push(m),
  });
}

const rateLimited = (retryAfter: string): Answer => ({
  status: 429,
  headers: { 'Retry-After': retryAfter },
  body: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders recently' },
});

test('a rate limit with a long Retry-After fails at once, typed, keeping type, status and Retry-After', async () => {
  const ca = await standIn(() => rateLimited('3600'));
  try {
    const s = await session(ca.url);
    const started = Date.now();
    await assert.rejects(s.issue({ identifiers: ['a.example.com'], csrPem: 'x', solver: noSolver }), (err: unknown) => {
      assert.ok(err instanceof AcmeProblemError, String(err));
      assert.equal(err.shortType, 'rateLimited');
      assert.equal(err.status, 429);
      assert.ok(err.retryAfter && Math.abs(err.retryAfter.getTime() - (Date.now() + 3_600_000)) < 60_000, `retryAfter ${err.retryAfter?.toISOString()}`);
      assert.match(err.message, /too many new orders recently \(rateLimited, HTTP 429\); retry after /);
      return true;
    });
    assert.ok(Date.now() - started < 3000, 'no sleeping on a long Retry-After');
    assert.equal(ca.counts.newOrder, 1, 'not retried');
  } finally {
    await ca.close();
  }
});

test('503 with a short Retry-After is retried, at most three attempts', async () => {
  const ca = await standIn((n) =>
    n < 3 ? { status: 503, headers: { 'Retry-After': '1' }, body: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'busy' } } : rateLimited('7200'),
  );
  try {
    const logs: string[] = [];
    const s = await session(ca.url, logs);
    const started = Date.now();
    await assert.rejects(s.issue({ identifiers: ['a.example.com'], csrPem: 'x', solver: noSolver }), (err: unknown) => err instanceof AcmeProblemError && err.shortType === 'rateLimited');
    assert.equal(ca.counts.newOrder, 3);
    assert.ok(Date.now() - started >= 1900, 'waited for the Retry-After twice');
    assert.equal(logs.filter((l) => /new order: busy .*retrying in 1s/.test(l)).length, 2, logs.join('\n'));
    assert.equal(ca.counts.newAccount, 1);
  } finally {
    await ca.close();
  }
});

test('a CA that does not answer: a network error with its code and cause', async () => {
  const ca = await standIn(() => ({ status: 500 }));
  await ca.close(); // the port is now closed
  const s = await session(ca.url);
  await assert.rejects(s.issue({ identifiers: ['a.example.com'], csrPem: 'x', solver: noSolver }), (err: unknown) => {
    assert.ok(err instanceof AcmeNetworkError, String(err));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.match(err.message, /^http:\/\/127\.0\.0\.1:\d+\/dir: connect ECONNREFUSED/);
    assert.ok(err.cause instanceof Error);
    return true;
  });
});

test('external account binding and contact go into newAccount (for CAs that require EAB); RSA account keys sign RS256', async () => {
  const ca = await standIn(() => rateLimited('3600'));
  try {
    const hmacKey = Buffer.from('a-very-secret-mac-key-of-32-bytes').toString('base64url');
    const s = await session(ca.url, [], { eab: { kid: 'kid-123', hmacKey }, contact: ['mailto:ops@example.com'], rsa: true });
    await assert.rejects(s.issue({ identifiers: ['a.example.com'], csrPem: 'x', solver: noSolver }));
    const jws = JSON.parse(ca.bodies.newAccount[0]);
    const b64 = (x: string) => JSON.parse(Buffer.from(x, 'base64url').toString('utf8'));
    assert.equal(b64(jws.protected).alg, 'RS256');
    const payload = b64(jws.payload);
    assert.equal(payload.termsOfServiceAgreed, true);
    assert.deepEqual(payload.contact, ['mailto:ops@example.com']);
    const eab = payload.externalAccountBinding;
    assert.equal(b64(eab.protected).kid, 'kid-123');
    assert.equal(b64(eab.protected).alg, 'HS256');
    assert.ok(!ca.bodies.newAccount[0].includes(hmacKey), 'the MAC key itself is never sent');
  } finally {
    await ca.close();
  }
});
