// ARI passthrough: the upstream CA's renewalInfo for a brokered certificate, cached until its
// Retry-After; null without ARI or for a CertID the broker never brokered. A stand-in CA on
// 127.0.0.1 (plain HTTP) serves the directory and renewalInfo.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openDirStore } from '../../../src/broker/store/dir-store.ts';
import type { BrokerCertificate } from '../../../src/broker/types.ts';
import { createRenewalInfo } from '../../../src/broker/upstream/renewal-info.ts';

async function standIn(ari: boolean) {
  const polls: string[] = [];
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ newOrder: `${base}/new-order`, ...(ari ? { renewalInfo: `${base}/ri` } : {}) }));
    }
    const m = /^\/ri\/(.+)$/.exec(req.url ?? '');
    if (m) {
      polls.push(m[1]);
      if (m[1] === 'broken.1') {
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        return res.end('{}');
      }
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '60' });
      return res.end(JSON.stringify({ suggestedWindow: { start: '2027-01-01T00:00:00Z', end: '2027-01-02T00:00:00Z' }, explanationURL: 'https://ca.example/why' }));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  return { url, polls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const cert = (certId: string): BrokerCertificate => ({
  id: `c-${certId}`, order: `c-${certId}`, account: 'a', device: 'd', chainPem: '', certId, names: ['x.example.com'],
  notBefore: '2026-10-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z', issuedAt: '2026-10-01T00:00:00Z',
});

test('renewalInfo: passed through for brokered certificates, cached until Retry-After', async () => {
  const ca = await standIn(true);
  const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-ri-'));
  const store = await openDirStore(dir);
  try {
    await store.putCertificate(cert('aaa.1'));
    await store.putCertificate(cert('broken.1'));
    let now = new Date('2026-12-01T00:00:00Z');
    const ari = createRenewalInfo({ directoryUrl: ca.url, store, now: () => now });
    const first = await ari.renewalInfo('aaa.1');
    assert.deepEqual(first, { body: { suggestedWindow: { start: '2027-01-01T00:00:00.000Z', end: '2027-01-02T00:00:00.000Z' }, explanationURL: 'https://ca.example/why' }, retryAfter: 60 });
    now = new Date(now.getTime() + 20_000);
    assert.equal((await ari.renewalInfo('aaa.1'))?.retryAfter, 40, 'from the cache, with the time left');
    assert.deepEqual(ca.polls, ['aaa.1']);
    now = new Date(now.getTime() + 41_000);
    await ari.renewalInfo('aaa.1');
    assert.deepEqual(ca.polls, ['aaa.1', 'aaa.1'], 'asked again once Retry-After passed');
    assert.equal(await ari.renewalInfo('unknown.1'), null, 'not brokered: not asked upstream');
    assert.deepEqual(ca.polls, ['aaa.1', 'aaa.1']);
    await assert.rejects(ari.renewalInfo('broken.1'), { name: 'RenewalInfoError', message: /HTTP 500/ });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
    await ca.close();
  }
});

test('renewalInfo: null when the CA offers no ARI', async () => {
  const ca = await standIn(false);
  try {
    assert.equal(await createRenewalInfo({ directoryUrl: ca.url }).renewalInfo('aaa.1'), null);
    assert.deepEqual(ca.polls, []);
  } finally {
    await ca.close();
  }
});
