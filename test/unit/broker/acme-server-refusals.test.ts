/**
 * What the device-facing ACME server refuses, driven with raw JWS built by jose so that each
 * request is exactly as bad as the case needs. Plain HTTP: TLS is covered in acme-server.test.ts.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import * as acme from 'acme-client';
import { calculateJwkThumbprint } from 'jose';
import { call, completeOrder, eabFor, enroll, newAccountKey, nonceOf, post, register, sign, startBroker, type Broker, type RawKey } from './acme-server-harness.ts';
import type { Device } from '../../../src/broker/types.ts';
import { eventually } from '../server/harness.ts';

let broker: Broker;
let device: Device;
let key: RawKey;
let kid: string;
const url = (path: string): string => `${broker.publicUrl}${path}`;
const problem = (type: string): string => `urn:ietf:params:acme:error:${type}`;

before(async () => {
  broker = await startBroker();
  device = await enroll(broker.store, 'dev-a', ['a.example.com', 'b.example.com', '*.wild.example.com']);
  key = await newAccountKey();
  kid = await register(broker, device, key);
});
after(() => broker.close());

async function newOrder(names: string[], extra: Record<string, unknown> = {}, as = { key, kid }): Promise<{ status: number; json: Record<string, unknown>; location: string }> {
  const r = await post(broker, url('/acme/new-order'), { identifiers: names.map((value) => ({ type: 'dns', value })), ...extra }, as.key, { kid: as.kid });
  return { status: r.status, json: r.json, location: String(r.headers.location) };
}

async function csrB64u(names: string[], keyPem?: Buffer): Promise<string> {
  const [, csr] = await acme.crypto.createCsr({ altNames: names }, keyPem);
  return acme.crypto.getPemBodyAsB64u(csr);
}

test('newAccount: EAB missing, wrong MAC, unknown key id, binding another key, unsupported algorithms', async () => {
  const other = await newAccountKey();
  const cases: { desc: string; payload: () => Promise<Record<string, unknown>>; status: number; type: string }[] = [
    { desc: 'no EAB', payload: async () => ({ termsOfServiceAgreed: true }), status: 400, type: 'externalAccountRequired' },
    { desc: 'wrong MAC', payload: async () => ({ externalAccountBinding: await eabFor(broker, device, other.jwk, Buffer.alloc(32, 7).toString('base64url')) }), status: 403, type: 'unauthorized' },
    { desc: 'unknown kid', payload: async () => ({ externalAccountBinding: await eabFor(broker, { ...device, eabKid: 'nobody.x' }, other.jwk) }), status: 403, type: 'unauthorized' },
    { desc: 'EAB over another key', payload: async () => ({ externalAccountBinding: await eabFor(broker, device, key.jwk) }), status: 400, type: 'malformed' },
  ];
  for (const c of cases) {
    const r = await post(broker, url('/acme/new-account'), await c.payload(), other);
    assert.equal(r.status, c.status, `${c.desc}: ${r.text}`);
    assert.equal(r.json.type, problem(c.type), c.desc);
    assert.equal(r.headers['content-type'], 'application/problem+json', c.desc);
    assert.ok(r.headers['replay-nonce'], c.desc);
    assert.ok(!r.text.includes(device.eabHmacKey), c.desc);
  }
  assert.equal(await broker.store.accountByThumbprint(await calculateJwkThumbprint(other.jwk)), null, 'no account was made');
  const macSigned = await sign({}, { alg: 'HS256', jwk: other.jwk, nonce: await nonceOf(broker), url: url('/acme/new-account') }, Buffer.alloc(32, 1));
  const r = await call(broker, 'POST', url('/acme/new-account'), JSON.stringify(macSigned), { 'content-type': 'application/jose+json' });
  assert.equal(r.json.type, problem('badSignatureAlgorithm'));
  assert.ok(Array.isArray(r.json.algorithms));
  const existing = await post(broker, url('/acme/new-account'), { onlyReturnExisting: true }, other);
  assert.equal(existing.json.type, problem('accountDoesNotExist'));
});

test('JWS envelope: replayed and unknown nonces, a wrong url, jwk where kid belongs, size, type and JSON', async () => {
  const nonce = await nonceOf(broker);
  const first = await post(broker, url('/acme/new-order'), { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, key, { kid, nonce });
  assert.equal(first.status, 201);
  const replay = await post(broker, url('/acme/new-order'), { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, key, { kid, nonce });
  assert.equal(replay.status, 400);
  assert.equal(replay.json.type, problem('badNonce'));
  assert.ok(replay.headers['replay-nonce'] && replay.headers['replay-nonce'] !== nonce, 'a fresh nonce comes with badNonce');
  assert.equal((await post(broker, url('/acme/new-order'), {}, key, { kid, nonce: 'bm90LWlzc3VlZA' })).json.type, problem('badNonce'));
  const wrongUrl = await post(broker, url('/acme/new-order'), { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, key, { kid, url: url('/acme/new-account') });
  assert.equal(wrongUrl.status, 403);
  assert.equal(wrongUrl.json.type, problem('unauthorized'));
  assert.equal((await post(broker, url('/acme/new-order'), {}, key)).json.type, problem('malformed'), 'jwk instead of kid');
  const unknownKid = await post(broker, url('/acme/new-order'), {}, key, { kid: url('/acme/acct/nope') });
  assert.equal(unknownKid.json.type, problem('accountDoesNotExist'));
  const big = await call(broker, 'POST', url('/acme/new-order'), 'x'.repeat(70_000), { 'content-type': 'application/jose+json' });
  assert.equal(big.status, 413);
  assert.equal(big.headers['content-type'], 'application/problem+json');
  assert.equal((await call(broker, 'POST', url('/acme/new-order'), '{}', { 'content-type': 'application/json' })).status, 415);
  const junk = await call(broker, 'POST', url('/acme/new-order'), '{"protected":', { 'content-type': 'application/jose+json' });
  assert.equal(junk.json.type, problem('malformed'));
  const general = await call(broker, 'POST', url('/acme/new-order'), JSON.stringify({ payload: '', signatures: [] }), { 'content-type': 'application/jose+json' });
  assert.equal(general.json.type, problem('malformed'));
  assert.equal((await call(broker, 'GET', url('/acme/new-order'))).status, 405);
  // A client that goes away halfway through its body: answered (to nobody) and logged, not left pending.
  const port = Number(new URL(broker.publicUrl).port);
  const half = connect({ host: '127.0.0.1', port }, () => {
    half.write(`POST /acme/new-order HTTP/1.1\r\nHost: x\r\nContent-Type: application/jose+json\r\nContent-Length: 1000\r\n\r\n{"protected":`);
    setTimeout(() => half.destroy(), 50);
  });
  half.on('error', () => {});
  await eventually(() => broker.lines.some((l) => /^POST \/acme\/new-order 500 serverInternal \(.*abort/.test(l)), 'the aborted request is logged');
  // A signature by another key under this account's kid.
  const forged = await post(broker, url('/acme/new-order'), { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, await newAccountKey(), { kid });
  assert.equal(forged.status, 400);
  assert.equal(forged.json.type, problem('malformed'));
});

test('newOrder: names outside the enrollment, wildcards, unsupported fields, profiles; accepted names are normalised', async () => {
  const outside = await newOrder(['a.example.com', 'evil.example.com', 'x.example.net']);
  assert.equal(outside.status, 400);
  assert.equal(outside.json.type, problem('rejectedIdentifier'));
  assert.match(String(outside.json.detail), /"evil\.example\.com", "x\.example\.net"/);
  assert.doesNotMatch(String(outside.json.detail), /a\.example\.com/);
  assert.equal((await newOrder(['*.a.example.com'])).json.type, problem('rejectedIdentifier'), 'wildcard not enrolled');
  assert.equal((await newOrder(['x.wild.example.com'])).json.type, problem('rejectedIdentifier'), 'a name under an enrolled wildcard is not the wildcard');
  assert.equal((await newOrder(['a.example.com'], { notAfter: '2030-01-01T00:00:00Z' })).json.type, problem('malformed'));
  assert.equal((await newOrder(['a.example.com'], { profile: 'tlsserver' })).json.type, problem('invalidProfile'));
  const ip = await post(broker, url('/acme/new-order'), { identifiers: [{ type: 'ip', value: '10.0.0.1' }] }, key, { kid });
  assert.equal(ip.json.type, problem('unsupportedIdentifier'));

  const ok = await newOrder(['B.example.com', 'a.example.com', 'b.example.com', '*.WILD.example.com']);
  assert.equal(ok.status, 201, JSON.stringify(ok.json));
  assert.equal(ok.json.status, 'ready');
  assert.deepEqual(ok.json.identifiers, ['*.wild.example.com', 'a.example.com', 'b.example.com'].map((value) => ({ type: 'dns', value })));
  const authzUrl = (ok.json.authorizations as string[])[0];
  const authz = await post(broker, authzUrl, '', key, { kid });
  assert.equal(authz.json.status, 'valid');
  assert.equal(authz.json.wildcard, true);
  assert.deepEqual(authz.json.identifier, { type: 'dns', value: 'wild.example.com' });
  const [challenge] = authz.json.challenges as { type: string; status: string; url: string }[];
  assert.equal(challenge.type, 'dns-01');
  assert.equal(challenge.status, 'valid');
  assert.equal((await post(broker, challenge.url, {}, key, { kid })).json.status, 'valid');
  const expires = Date.parse(String(ok.json.expires)) - Date.now();
  assert.ok(expires > 6.9 * 86_400_000 && expires <= 7 * 86_400_000);
});

test('finalize: CSR names or key other than the order asks, a wrong state; other accounts see nothing', async () => {
  const order = await newOrder(['a.example.com']);
  const finalizeUrl = String(order.json.finalize);
  const other = await post(broker, finalizeUrl, { csr: await csrB64u(['a.example.com', 'b.example.com']) }, key, { kid });
  assert.equal(other.json.type, problem('badCSR'));
  assert.match(String(other.json.detail), /not in the order: b\.example\.com/);
  const fewer = await post(broker, finalizeUrl, { csr: await csrB64u(['b.example.com']) }, key, { kid });
  assert.equal(fewer.json.type, problem('badCSR'));
  const weak = await post(broker, finalizeUrl, { csr: await csrB64u(['a.example.com'], await acme.crypto.createPrivateRsaKey(1024)) }, key, { kid });
  assert.equal(weak.json.type, problem('badPublicKey'));
  assert.match(String(weak.json.detail), /RSA 1024 bits/);
  assert.equal((await post(broker, finalizeUrl, { csr: 'bm90IGEgY3Ny' }, key, { kid })).json.type, problem('badCSR'));
  assert.equal((await broker.store.getOrder(order.location.split('/').pop()!))?.status, 'ready', 'refused CSRs change nothing');

  // Another device's account: the order, its authorization, finalize and certificate are not there for it.
  const device2 = await enroll(broker.store, 'dev-b', ['a.example.com']);
  const key2 = await newAccountKey();
  const kid2 = await register(broker, device2, key2);
  for (const target of [order.location, (order.json.authorizations as string[])[0], finalizeUrl]) {
    const r = await post(broker, target, target === finalizeUrl ? { csr: await csrB64u(['a.example.com']) } : '', key2, { kid: kid2 });
    assert.equal(r.status, 404, target);
    assert.doesNotMatch(r.text, /a\.example\.com/, 'nothing of the order leaks');
  }

  const good = await post(broker, finalizeUrl, { csr: await csrB64u(['a.example.com']) }, key, { kid });
  assert.equal(good.status, 200);
  assert.equal(good.json.status, 'processing');
  assert.equal(good.headers['retry-after'], '1');
  assert.equal((await post(broker, finalizeUrl, { csr: await csrB64u(['a.example.com']) }, key, { kid })).json.type, problem('orderNotReady'));
  const id = order.location.split('/').pop()!;
  await completeOrder(broker.store, id);
  const done = await post(broker, order.location, '', key, { kid });
  assert.equal(done.json.status, 'valid');
  const certUrl = String(done.json.certificate);
  const mine = await post(broker, certUrl, '', key, { kid });
  assert.equal(mine.headers['content-type'], 'application/pem-certificate-chain');
  assert.equal(mine.text, (await broker.store.getCertificate(id))!.chainPem);
  const theirs = await post(broker, certUrl, '', key2, { kid: kid2 });
  assert.equal(theirs.status, 404);
  assert.doesNotMatch(theirs.text, /BEGIN CERTIFICATE/);
});

test('an order the worker gave up shows its error; an order past its expiry cannot be finalized', async () => {
  const failed = await newOrder(['a.example.com']);
  await post(broker, String(failed.json.finalize), { csr: await csrB64u(['a.example.com']) }, key, { kid });
  const error = { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'upstream: the CA refused a.example.com' };
  await broker.store.updateOrder(failed.location.split('/').pop()!, { status: 'processing' }, { status: 'invalid', error });
  const shown = await post(broker, failed.location, '', key, { kid });
  assert.equal(shown.json.status, 'invalid');
  assert.deepEqual(shown.json.error, { ...error, status: 403 });
  assert.equal(shown.headers['retry-after'], undefined);

  const stale = await newOrder(['a.example.com']);
  await broker.store.updateOrder(stale.location.split('/').pop()!, { status: 'ready' }, { expiresAt: new Date(Date.now() - 1000).toISOString() });
  assert.equal((await post(broker, stale.location, '', key, { kid })).json.status, 'invalid');
  const late = await post(broker, String(stale.json.finalize), { csr: await csrB64u(['a.example.com']) }, key, { kid });
  assert.equal(late.json.type, problem('orderNotReady'));
  assert.match(String(late.json.detail), /expired/);
});

test('replaces: only a certificate brokered for this device, and only once finalized', async () => {
  const first = await newOrder(['b.example.com']);
  await post(broker, String(first.json.finalize), { csr: await csrB64u(['b.example.com']) }, key, { kid });
  const cert = await completeOrder(broker.store, first.location.split('/').pop()!);
  assert.equal((await newOrder(['b.example.com'], { replaces: 'AAAA.BBBB' })).json.type, problem('malformed'));
  const device3 = await enroll(broker.store, 'dev-c', ['b.example.com']);
  const key3 = await newAccountKey();
  const kid3 = await register(broker, device3, key3);
  const foreign = await newOrder(['b.example.com'], { replaces: cert.certId }, { key: key3, kid: kid3 });
  assert.equal(foreign.json.type, problem('malformed'), "another device's certificate");
  const renewal = await newOrder(['b.example.com'], { replaces: cert.certId });
  assert.equal(renewal.status, 201);
  assert.equal(renewal.json.replaces, cert.certId);
  assert.equal((await newOrder(['b.example.com'], { replaces: cert.certId })).status, 201, 'an unfinalized replacement may be asked again');
  await post(broker, String(renewal.json.finalize), { csr: await csrB64u(['b.example.com']) }, key, { kid });
  const twice = await newOrder(['b.example.com'], { replaces: cert.certId });
  assert.equal(twice.status, 409);
  assert.equal(twice.json.type, problem('alreadyReplaced'));
});

test('a removed device: its account is refused on every request, and its EAB no longer binds', async () => {
  const device4 = await enroll(broker.store, 'dev-d', ['d.example.com']);
  const key4 = await newAccountKey();
  const kid4 = await register(broker, device4, key4);
  const order = await newOrder(['d.example.com'], {}, { key: key4, kid: kid4 });
  assert.equal(order.status, 201);
  await broker.store.putDevice({ ...device4, removedAt: new Date().toISOString() });
  for (const [target, payload] of [[url('/acme/new-order'), { identifiers: [{ type: 'dns', value: 'd.example.com' }] }], [order.location, ''], [kid4, '']] as const) {
    const r = await post(broker, target, payload, key4, { kid: kid4 });
    assert.equal(r.status, 403, target);
    assert.equal(r.json.type, problem('unauthorized'));
    assert.ok(!r.text.includes(device4.eabKid) && !r.text.includes(device4.eabHmacKey));
  }
  const again = await post(broker, url('/acme/new-account'), { termsOfServiceAgreed: true }, key4);
  assert.equal(again.json.type, problem('unauthorized'), 'the existing account is not handed out');
  const fresh = await newAccountKey();
  const bind = await post(broker, url('/acme/new-account'), { externalAccountBinding: await eabFor(broker, device4, fresh.jwk) }, fresh);
  assert.equal(bind.json.type, problem('unauthorized'));
});
