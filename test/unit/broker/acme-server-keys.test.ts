/**
 * Account keys the device-facing ACME server takes (RFC 8555 §6.2: RS256, ES256 and more), and
 * the pure check of newOrder payloads, table-driven.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK } from 'jose';
import { checkOrderRequest } from '../../../src/broker/acme-server/order-request.ts';
import { AcmeProblem } from '../../../src/broker/acme-server/problem.ts';
import { matchRoute } from '../../../src/broker/acme-server/urls.ts';
import { call, eabFor, enroll, nonceOf, post, startBroker, type Broker } from './acme-server-harness.ts';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.close());

const keyPairs: { alg: string; make: () => { privateKey: KeyObject; publicKey: KeyObject } }[] = [
  { alg: 'RS256', make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  { alg: 'PS256', make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  { alg: 'ES256', make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { alg: 'ES384', make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
  { alg: 'EdDSA', make: () => generateKeyPairSync('ed25519') },
];

test('accounts with RS256, PS256, ES256, ES384 and EdDSA keys register and order', async () => {
  for (const { alg, make } of keyPairs) {
    const device = await enroll(broker.store, `dev-${alg.toLowerCase()}`, [`${alg.toLowerCase()}.example.com`]);
    const pair = make();
    const key = { privateKey: pair.privateKey, jwk: await exportJWK(pair.publicKey), alg };
    const created = await post(broker, `${broker.publicUrl}/acme/new-account`, { externalAccountBinding: await eabFor(broker, device, key.jwk) }, key);
    assert.equal(created.status, 201, `${alg}: ${created.text}`);
    const kid = String(created.headers.location);
    const order = await post(broker, `${broker.publicUrl}/acme/new-order`, { identifiers: [{ type: 'dns', value: `${alg.toLowerCase()}.example.com` }] }, key, { kid });
    assert.equal(order.status, 201, `${alg}: ${order.text}`);
  }
});

test('an RSA account key under 2048 bits is refused', async () => {
  const device = await enroll(broker.store, 'dev-weak', ['weak.example.com']);
  const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const jwk = await exportJWK(pair.publicKey);
  // Signed with Node's crypto: jose will not sign with such a key.
  const url = `${broker.publicUrl}/acme/new-account`;
  const protectedB64 = Buffer.from(JSON.stringify({ alg: 'RS256', jwk, nonce: await nonceOf(broker), url })).toString('base64url');
  const payloadB64 = Buffer.from(JSON.stringify({ externalAccountBinding: await eabFor(broker, device, jwk) })).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), pair.privateKey).toString('base64url');
  const r = await call(broker, 'POST', url, JSON.stringify({ protected: protectedB64, payload: payloadB64, signature }), { 'content-type': 'application/jose+json' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.type, 'urn:ietf:params:acme:error:badPublicKey', r.text);
});

const enrolled = ['a.example.com', 'b.example.com', '*.w.example.com'];
const orderCases: { desc: string; payload: Record<string, unknown> | null; profile?: string | null; want: string[] | string }[] = [
  { desc: 'normalised', payload: { identifiers: [{ type: 'dns', value: 'B.example.com' }, { type: 'dns', value: 'a.example.com' }, { type: 'dns', value: 'b.example.com' }] }, want: ['a.example.com', 'b.example.com'] },
  { desc: 'enrolled wildcard', payload: { identifiers: [{ type: 'dns', value: '*.w.example.com' }] }, want: ['*.w.example.com'] },
  { desc: 'name under the wildcard', payload: { identifiers: [{ type: 'dns', value: 'x.w.example.com' }] }, want: 'rejectedIdentifier' },
  { desc: 'wildcard of an exact name', payload: { identifiers: [{ type: 'dns', value: '*.a.example.com' }] }, want: 'rejectedIdentifier' },
  { desc: 'trailing dot', payload: { identifiers: [{ type: 'dns', value: 'a.example.com.' }] }, want: 'rejectedIdentifier' },
  { desc: 'ip identifier', payload: { identifiers: [{ type: 'ip', value: '10.0.0.1' }] }, want: 'unsupportedIdentifier' },
  { desc: 'no identifiers', payload: { identifiers: [] }, want: 'malformed' },
  { desc: 'POST-as-GET', payload: null, want: 'malformed' },
  { desc: 'notBefore', payload: { identifiers: [{ type: 'dns', value: 'a.example.com' }], notBefore: '2030-01-01T00:00:00Z' }, want: 'malformed' },
  { desc: 'profile when none is offered', payload: { identifiers: [{ type: 'dns', value: 'a.example.com' }], profile: 'classic' }, want: 'invalidProfile' },
  { desc: 'another profile', payload: { identifiers: [{ type: 'dns', value: 'a.example.com' }], profile: 'classic' }, profile: 'shortlived', want: 'invalidProfile' },
  { desc: 'the offered profile', payload: { identifiers: [{ type: 'dns', value: 'a.example.com' }], profile: 'shortlived' }, profile: 'shortlived', want: ['a.example.com'] },
  { desc: 'replaces not a CertID', payload: { identifiers: [{ type: 'dns', value: 'a.example.com' }], replaces: 'abc' }, want: 'malformed' },
];

test('checkOrderRequest: names, profiles and unsupported fields', () => {
  for (const c of orderCases) {
    if (Array.isArray(c.want)) {
      assert.deepEqual(checkOrderRequest(c.payload, enrolled, c.profile ?? null).identifiers, c.want, c.desc);
    } else {
      assert.throws(() => checkOrderRequest(c.payload, enrolled, c.profile ?? null), (e: unknown) => e instanceof AcmeProblem && e.type === c.want, c.desc);
    }
  }
});

test('matchRoute: paths below publicUrl only; ids that could be file names of another kind are no route', () => {
  const base = 'https://lb.example/broker';
  const cases: { target: string; want: string | null }[] = [
    { target: '/broker/directory', want: 'directory' },
    { target: '/broker/acme/order/abc123/finalize?x=1', want: 'finalize' },
    { target: '/broker/acme/authz/abc123/2', want: 'authorization' },
    { target: '/broker/acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', want: 'renewalInfo' },
    { target: '/directory', want: null },
    { target: '/broker/acme/order/../finalize', want: null },
    { target: '/broker/acme/order/a.b', want: null },
  ];
  for (const c of cases) assert.equal(matchRoute(base, c.target)?.endpoint ?? null, c.want, c.target);
  assert.equal(matchRoute(base, '/broker/acme/new-order')?.publicUrl, 'https://lb.example/broker/acme/new-order');
});
