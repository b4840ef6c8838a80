// Resumable orders (IssueRequest.resumeOrderUrl / onOrderCreated) against a stand-in ACME
// server on 127.0.0.1 that keeps orders in any state a test sets, so each state a takeover can
// find (pending, ready, processing, valid, invalid, gone) is reached on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openAcmeSession } from '../../../src/acme/session.ts';
import { generateKeyPem } from '../../../src/crypto/keys.ts';
import type { Solver } from '../../../src/challenge/solver.ts';

type Status = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
interface StandInOrder { status: Status; names: string[]; authzValid: boolean }

const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** The stand-in: every request is logged as `METHOD path`; orders are kept by number. */
async function standIn() {
  const orders = new Map<number, StandInOrder>();
  const log: string[] = [];
  let nonce = 0;
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const type = status >= 400 ? 'application/problem+json' : typeof body === 'string' ? 'application/pem-certificate-chain' : 'application/json';
      res.writeHead(status, { 'Replay-Nonce': `n${++nonce}`, 'Content-Type': type, ...headers });
      res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
    };
    const view = (id: number, o: StandInOrder) => ({
      status: o.status,
      identifiers: o.names.map((value) => ({ type: 'dns', value })),
      authorizations: [`${base}/authz/${id}`],
      finalize: `${base}/finalize/${id}`,
      ...(o.status === 'valid' ? { certificate: `${base}/cert/${id}` } : {}),
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (url !== '/nonce') log.push(`${req.method} ${url}`);
      if (url === '/dir') return send(200, { newNonce: `${base}/nonce`, newAccount: `${base}/acct`, newOrder: `${base}/new-order` });
      if (url === '/nonce') return send(200);
      if (url === '/acct') return send(201, { status: 'valid' }, { Location: `${base}/acct/1` });
      if (url === '/new-order') {
        const payload = JSON.parse(Buffer.from(JSON.parse(Buffer.concat(chunks).toString()).payload, 'base64url').toString()) as { identifiers: { value: string }[] };
        const id = orders.size + 100;
        orders.set(id, { status: 'pending', names: payload.identifiers.map((i) => i.value), authzValid: false });
        return send(201, view(id, orders.get(id)!), { Location: `${base}/order/${id}` });
      }
      const [, kind, n] = /^\/([a-z-]+)\/(\d+)$/.exec(url) ?? [];
      const o = orders.get(Number(n));
      if (!o) return send(404, { type: 'urn:ietf:params:acme:error:malformed', detail: 'no such order' });
      const id = Number(n);
      const authz = () => ({
        status: o.authzValid ? 'valid' : 'pending',
        identifier: { type: 'dns', value: o.names[0] },
        challenges: [{ type: 'dns-01', url: `${base}/chall/${id}`, token: `tok${id}`, status: o.authzValid ? 'valid' : 'pending' }],
      });
      if (kind === 'order') {
        const answer = view(id, o);
        if (o.status === 'processing') o.status = 'valid'; // the next look finds it done
        return send(200, answer);
      }
      if (kind === 'authz') return send(200, authz());
      if (kind === 'chall') {
        o.authzValid = true;
        o.status = 'ready';
        return send(200, authz().challenges[0]);
      }
      if (kind === 'finalize') {
        o.status = 'processing';
        return send(200, view(id, o));
      }
      if (kind === 'cert') return send(200, CERT);
      send(404, { type: 'urn:ietf:params:acme:error:malformed', detail: 'not in the stand-in' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/dir`,
    base,
    log,
    orders,
    /** Puts an order in `status` and returns its URL. */
    add(status: Status, names: string[]): string {
      const id = orders.size + 100;
      orders.set(id, { status, names, authzValid: status !== 'pending' });
      return `${base}/order/${id}`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function recordingSolver(events: string[]): Solver {
  return {
    type: 'dns-01',
    present: async (id) => void events.push(`present ${id}`),
    cleanup: async (id) => void events.push(`cleanup ${id}`),
  };
}

async function session(url: string, logs: string[]) {
  return openAcmeSession({
    directoryUrl: url,
    accountKeyPem: await generateKeyPem({ kind: 'ec', curve: 'prime256v1' }),
    contact: [],
    eab: null,
    requestTimeoutMs: 5000,
    orderTimeoutMs: 20_000,
    maxRetryWaitMs: 1000,
    log: (m) => logs.push(m),
  });
}

const NAMES = ['a.example.com'];

test('resume: each state an earlier worker may have left continues without a new order', async (t) => {
  const cases: { desc: string; status: Status; expect: string[] }[] = [
    { desc: 'pending: validated, finalized, polled, downloaded', status: 'pending', expect: ['order', 'authz', 'chall', 'authz', 'finalize', 'order', 'order', 'cert'] },
    { desc: 'ready: finalized', status: 'ready', expect: ['order', 'finalize', 'order', 'order', 'cert'] },
    { desc: 'processing: polled', status: 'processing', expect: ['order', 'order', 'cert'] },
    { desc: 'valid: downloaded', status: 'valid', expect: ['order', 'cert'] },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const ca = await standIn();
      try {
        const logs: string[] = [];
        const s = await session(ca.url, logs);
        const url = ca.add(c.status, NAMES);
        const created: string[] = [];
        const events: string[] = [];
        const issued = await s.issue({ identifiers: NAMES, csrPem: CSR, solver: recordingSolver(events), resumeOrderUrl: url, onOrderCreated: async (u) => void created.push(u) });
        assert.equal(issued.chain, CERT);
        assert.deepEqual(created, [], 'no new order, so no onOrderCreated');
        const steps = ca.log.filter((l) => l !== 'GET /dir' && l !== 'POST /acct').map((l) => l.split(' ')[1].split('/')[1]);
        assert.deepEqual(steps, c.expect, ca.log.join('\n'));
        assert.deepEqual(events, c.status === 'pending' ? ['present a.example.com', 'cleanup a.example.com'] : []);
      } finally {
        await ca.close();
      }
    });
  }
});

test('resume: an invalid, gone or other-names order is replaced by a new one, whose URL is handed over before any challenge', async (t) => {
  const cases: { desc: string; make: (ca: Awaited<ReturnType<typeof standIn>>) => string; log: RegExp }[] = [
    { desc: 'invalid', make: (ca) => ca.add('invalid', NAMES), log: /is invalid; placing a new order/ },
    { desc: 'gone (404)', make: (ca) => `${ca.base}/order/999`, log: /cannot be resumed \(no such order \(malformed, HTTP 404\)\); placing a new order/ },
    { desc: 'other identifiers', make: (ca) => ca.add('valid', ['b.example.com']), log: /is for b\.example\.com, not a\.example\.com; placing a new order/ },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const ca = await standIn();
      try {
        const logs: string[] = [];
        const s = await session(ca.url, logs);
        const old = c.make(ca);
        const events: string[] = [];
        const created: string[] = [];
        const issued = await s.issue({
          identifiers: NAMES, csrPem: CSR, solver: recordingSolver(events), resumeOrderUrl: old,
          onOrderCreated: async (u) => {
            created.push(u);
            events.push('created');
          },
        });
        assert.equal(issued.chain, CERT);
        assert.equal(created.length, 1);
        assert.notEqual(created[0], old);
        assert.match(created[0], /\/order\/\d+$/);
        assert.deepEqual(events, ['created', 'present a.example.com', 'cleanup a.example.com'], 'the URL is handed over before the challenge');
        assert.equal(ca.log.filter((l) => l === 'POST /new-order').length, 1);
        assert.match(logs.join('\n'), c.log);
      } finally {
        await ca.close();
      }
    });
  }
});

test('without resumeOrderUrl a new order is placed, and a throwing onOrderCreated ends the request before any challenge', async () => {
  const ca = await standIn();
  try {
    const s = await session(ca.url, []);
    const events: string[] = [];
    await assert.rejects(
      s.issue({ identifiers: NAMES, csrPem: CSR, solver: recordingSolver(events), onOrderCreated: async () => { throw new Error('store is down'); } }),
      /store is down/,
    );
    assert.deepEqual(events, []);
    assert.equal(ca.log.filter((l) => l === 'POST /new-order').length, 1);
    assert.ok(!ca.log.some((l) => l.includes('/chall/')), ca.log.join('\n'));
  } finally {
    await ca.close();
  }
});
