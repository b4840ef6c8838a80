// The ARI stand-in (test/support/ari-stand-in.ts) in front of the real Pebble (5% nonce
// rejection on): what it adds to the directory, renewalInfo answers, newOrder records and refusals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import path from 'node:path';
import acme from 'acme-client';
import * as x509 from '@peculiar/x509';
import { certIdOf, defaultRenewalWindow, startAriStandIn, type AriStandIn } from '../support/ari-stand-in.ts';
import { fetchText } from '../support/http.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const DAY = 86_400_000;

describe('certIdOf and defaultRenewalWindow', () => {
  it('computes RFC 9773\'s example CertID, keeping the serial\'s leading 0x00', async () => {
    const crypto = webcrypto as unknown as Crypto;
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const make = (serialNumber: string) =>
      x509.X509CertificateGenerator.create({
        serialNumber, subject: 'CN=leaf', issuer: 'CN=issuer', publicKey: keys.publicKey, signingKey: keys.privateKey, signingAlgorithm: alg,
        extensions: [new x509.AuthorityKeyIdentifierExtension(Buffer.from('aYhba4dGQEHhs3uEe6CuLN4ByNQ', 'base64url').toString('hex'))],
      }, crypto);
    assert.equal(certIdOf((await make('87654321')).toString('pem')), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    assert.equal(certIdOf((await make('0123')).toString('pem')), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.ASM');
  });

  it('centres the window on two thirds of the lifetime, half under 10 days, 1% either side', () => {
    const nb = new Date('2026-01-01T00:00:00Z');
    const long = defaultRenewalWindow(nb, new Date(nb.getTime() + 90 * DAY));
    assert.deepEqual([long.start.toISOString(), long.end.toISOString()], ['2026-03-01T02:24:00.000Z', '2026-03-02T21:36:00.000Z']);
    const short = defaultRenewalWindow(nb, new Date(nb.getTime() + 160 * 3600_000));
    assert.deepEqual([short.start.toISOString(), short.end.toISOString()], ['2026-01-04T06:24:00.000Z', '2026-01-04T09:36:00.000Z']);
  });
});

describe('the ARI stand-in in front of Pebble', () => {
  const fx = useTestServers();
  let standIn: AriStandIn;
  let ca: string;
  let certId: string;
  let leaf: X509Certificate;
  const name = `ari${randomBytes(4).toString('hex')}.example.com`;
  const get = (url: string) => fetchText(url, { ca });
  const json = (body: string) => JSON.parse(body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  // acme-client keeps its retry settings on its axios instance, outside its typings.
  const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings;
  const retries = settings.retryMaxAttempts;

  before(async () => {
    standIn = await startAriStandIn(fx.servers);
    ca = readFileSync(fx.servers.caCertPath, 'utf8');
    acme.axios.defaults.httpsAgent = new Agent({ ca });
    // acme-client would resend a refused request after each Retry-After; these tests read the refusal.
    settings.retryMaxAttempts = 0;
  });
  after(async () => {
    settings.retryMaxAttempts = retries;
    await standIn?.stop();
  });

  it('adds renewalInfo and meta.profiles to Pebble\'s directory, whose URLs point at the stand-in', async () => {
    const plain = json((await get(fx.servers.directoryUrl)).body);
    assert.equal(plain.renewalInfo, undefined, 'Pebble 2.4 itself has no ARI');
    const dir = json((await get(standIn.directoryUrl)).body);
    assert.equal(dir.renewalInfo, standIn.renewalInfoUrl);
    assert.deepEqual(Object.keys(dir.meta.profiles), ['classic', 'shortlived']);
    assert.equal(new URL(dir.newOrder).origin, new URL(standIn.directoryUrl).origin);
    assert.equal(dir.meta.termsOfService, plain.meta.termsOfService, 'Pebble\'s meta kept');

    const bare = await startAriStandIn(fx.servers, { ari: false, profiles: false });
    try {
      const bareDir = json((await get(bare.directoryUrl)).body);
      assert.equal(bareDir.renewalInfo, undefined);
      assert.equal(bareDir.meta.profiles, undefined);
      assert.ok(bareDir.newAccount.startsWith(new URL(bare.directoryUrl).origin));
    } finally {
      await bare.stop();
    }
  });

  it('passes certfleet\'s account and orders through and records them and the certificates', async () => {
    const conf = await makeConfDir(fx.servers, { domains: `${name}\n` });
    try {
      const run = await runCertfleet(['--test', '--config', conf, '--directory', standIn.directoryUrl, '--json'], { env: fx.env });
      assert.equal(run.code, 0, `${run.stderr}\n${fx.servers.logs()}`);
      assert.deepEqual(JSON.parse(run.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });
      const created = standIn.orders.filter((o) => o.status === 201);
      assert.equal(created.length, 2, JSON.stringify(standIn.orders));
      for (const order of created) assert.deepEqual(order.identifiers, [{ type: 'dns', value: name }]);
      const pem = await readFile(path.join(path.dirname(conf), 'test/cert', `${name}-cert-combined.prime256v1.test.pem`), 'utf8');
      certId = certIdOf(pem);
      leaf = new X509Certificate(pem);
      assert.ok(standIn.certificates.some((c) => c.certId === certId), 'the download was indexed by CertID');
      assert.equal(standIn.certificates.length, 2);
    } finally {
      await rm(path.dirname(conf), { recursive: true, force: true });
    }
  });

  it('answers renewalInfo with the default window, then a set one, then a set error', async () => {
    const pollsBefore = standIn.polls.length;
    const url = `${standIn.renewalInfoUrl}/${certId}`;
    const first = await get(url);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers['retry-after'], '21600');
    const nb = new Date(leaf.validFrom).getTime();
    const life = new Date(leaf.validTo).getTime() - nb;
    const window = json(first.body).suggestedWindow;
    assert.ok(Math.abs(Date.parse(window.start) - (nb + (life * 2) / 3 - life / 100)) < 1000, window.start);
    assert.ok(Math.abs(Date.parse(window.end) - (nb + (life * 2) / 3 + life / 100)) < 1000, window.end);

    const start = new Date('2030-05-01T00:00:00Z');
    const end = new Date('2030-05-01T06:00:00Z');
    standIn.setWindow(certId, { start, end, explanationURL: 'https://example.com/incident', retryAfterSeconds: 120 });
    const second = await get(url);
    assert.equal(second.status, 200);
    assert.equal(second.headers['retry-after'], '120');
    assert.deepEqual(json(second.body), {
      suggestedWindow: { start: start.toISOString(), end: end.toISOString() },
      explanationURL: 'https://example.com/incident',
    });

    standIn.setError(certId, 503, 30);
    const third = await get(url);
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '30');
    assert.match(String(third.headers['content-type']), /^application\/problem\+json/);
    assert.equal(json(third.body).type, 'urn:ietf:params:acme:error:serverInternal');

    const unknown = await get(`${standIn.renewalInfoUrl}/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE`);
    assert.equal(unknown.status, 404);
    assert.equal(json(unknown.body).type, 'urn:ietf:params:acme:error:malformed');
    assert.deepEqual(standIn.polls.slice(pollsBefore).map((p) => p.certId), [certId, certId, certId, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE']);
    standIn.reset();
    assert.equal((await get(url)).status, 200, 'reset() drops the error; the certificate stays known');
  });

  it('refuses newOrders with replaces as told, with a nonce Pebble accepts, and forwards the rest', async () => {
    const client = new acme.Client({ directoryUrl: standIn.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const http = (client as unknown as { http: { signedRequest(url: string, payload: object, opts: { kid: string; nonce?: string }, attempts?: number): Promise<{ status: number; headers: Record<string, string>; data: any }> } }).http; // eslint-disable-line @typescript-eslint/no-explicit-any
    const kid = client.getAccountUrl();
    const newOrder = json((await get(standIn.directoryUrl)).body).newOrder as string;
    const identifiers = [{ type: 'dns', value: name }];

    standIn.rejectReplaces('alreadyReplaced');
    // Pebble rejects 5% of valid nonces at random, so a handed-on nonce gets three chances.
    let accepted = 0;
    for (let round = 0; round < 3 && accepted === 0; round++) {
      const refused = await http.signedRequest(newOrder, { identifiers, replaces: certId, profile: 'shortlived' }, { kid });
      assert.equal(refused.status, 409);
      assert.equal(refused.data.type, 'urn:ietf:params:acme:error:alreadyReplaced');
      assert.ok(refused.headers['replay-nonce'], 'a Replay-Nonce on the refusal');
      // attempts = 5: acme-client must not swap in a nonce of its own on badNonce.
      const next = await http.signedRequest(newOrder, { identifiers }, { kid, nonce: refused.headers['replay-nonce'] }, 5);
      if (next.status === 201) accepted++;
      else assert.equal(next.data.type, 'urn:ietf:params:acme:error:badNonce', JSON.stringify(next.data));
    }
    assert.equal(accepted, 1, 'Pebble accepted a nonce handed out with a refusal');
    const refusedOrder = standIn.orders.find((o) => o.status === 409);
    assert.deepEqual(refusedOrder && { ...refusedOrder, at: undefined }, { identifiers, replaces: certId, profile: 'shortlived', status: 409, at: undefined });

    standIn.rejectReplaces('malformed');
    const malformed = await http.signedRequest(newOrder, { identifiers, replaces: certId }, { kid });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.data.type, 'urn:ietf:params:acme:error:malformed');
    assert.match(malformed.data.detail, /replaces/);

    standIn.failNewOrders(429, 'rateLimited', 60);
    const limited = await http.signedRequest(newOrder, { identifiers }, { kid });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '60');
    assert.equal(limited.data.type, 'urn:ietf:params:acme:error:rateLimited');
    assert.match(limited.data.detail, /retry after \d{4}-/);
    assert.equal(standIn.orders.at(-1)?.status, 429);

    standIn.clearFaults();
    const forwarded = await http.signedRequest(newOrder, { identifiers, replaces: certId, profile: 'shortlived' }, { kid });
    assert.equal(forwarded.status, 201, 'Pebble 2.4 ignores replaces and profile');
    assert.equal(standIn.orders.at(-1)?.replaces, certId);
  });
});
