/**
 * `/address`: a device replaces its names' address records, authenticated by its enrollment
 * key over a one-time nonce. Driven by certfleet's own client (src/broker/address-client.ts)
 * for the accepted case and by raw JWS for the refusals, each of which must change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sendAddresses } from '../../../src/broker/address-client.ts';
import type { Device } from '../../../src/broker/types.ts';
import { call, enroll, nonceOf, sign, startBroker, type Broker } from './acme-server-harness.ts';

let broker: Broker;
let device: Device;
let failNext: string | null = null;
const problem = (type: string): string => `urn:ietf:params:acme:error:${type}`;

before(async () => {
  broker = await startBroker({
    tls: true,
    setAddresses: async (d) => {
      if (!failNext) return { names: d.names };
      const message = failNext;
      failNext = null;
      throw new Error(message);
    },
  });
  device = await enroll(broker.store, 'xi8qz', ['xi8qz.example.com']);
});
after(() => broker.close());

async function postAddress(payload: unknown, opts: { kid?: string; hmacKey?: string; nonce?: string; url?: string; alg?: string } = {}) {
  const header = { alg: opts.alg ?? 'HS256', kid: opts.kid ?? device.eabKid, nonce: opts.nonce ?? (await nonceOf(broker)), url: opts.url ?? `${broker.publicUrl}/address` };
  const jws = await sign(payload, header, Buffer.from(opts.hmacKey ?? device.eabHmacKey, 'base64url'));
  return call(broker, 'POST', `${broker.publicUrl}/address`, JSON.stringify(jws), { 'content-type': 'application/jose+json' });
}

test('certfleet address sets the addresses of the device: private ones allowed, deduplicated', async (t) => {
  // certfleet's client uses fetch, which trusts no extra CA per call: it runs against a plain
  // HTTP broker, and the raw request after it goes over HTTPS.
  const plain = await startBroker();
  t.after(() => plain.close());
  const d = await enroll(plain.store, 'dev1', ['dev1.example.com', '*.dev1.example.com']);
  const result = await sendAddresses({ broker: plain.publicUrl, kid: d.eabKid, hmacKey: d.eabHmacKey, addresses: ['10.1.1.4', 'fd00::4', '10.1.1.4'] });
  assert.deepEqual(result, { device: 'dev1', names: ['dev1.example.com', '*.dev1.example.com'], addresses: ['10.1.1.4', 'fd00::4'] });
  assert.deepEqual(plain.addressCalls, [{ device: 'dev1', addresses: ['10.1.1.4', 'fd00::4'] }]);

  const r = await postAddress({ addresses: ['192.168.0.9'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { device: 'xi8qz', names: ['xi8qz.example.com'], addresses: ['192.168.0.9'] });
});

test('refused and nothing changed: wrong key, unknown kid, replayed nonce, wrong url, removed device, bad addresses', async () => {
  const before = broker.addressCalls.length;
  const nonce = await nonceOf(broker);
  assert.equal((await postAddress({ addresses: ['10.0.0.1'] }, { nonce })).status, 200);
  const cases: { desc: string; send: () => ReturnType<typeof postAddress>; status: number; type: string }[] = [
    { desc: 'replayed nonce', send: () => postAddress({ addresses: ['10.0.0.2'] }, { nonce }), status: 400, type: 'badNonce' },
    { desc: 'wrong key', send: () => postAddress({ addresses: ['10.0.0.3'] }, { hmacKey: Buffer.alloc(32, 9).toString('base64url') }), status: 403, type: 'unauthorized' },
    { desc: 'unknown kid', send: () => postAddress({ addresses: ['10.0.0.4'] }, { kid: 'xi8qz.unknown' }), status: 403, type: 'unauthorized' },
    { desc: 'wrong url', send: () => postAddress({ addresses: ['10.0.0.5'] }, { url: `${broker.publicUrl}/acme/new-order` }), status: 403, type: 'unauthorized' },
    { desc: 'not an address', send: () => postAddress({ addresses: ['10.0.0.256'] }), status: 400, type: 'malformed' },
    { desc: 'a zone id', send: () => postAddress({ addresses: ['fe80::1%eth0'] }), status: 400, type: 'malformed' },
    { desc: 'too many', send: () => postAddress({ addresses: Array.from({ length: 17 }, (_, i) => `10.0.1.${i}`) }), status: 400, type: 'malformed' },
    { desc: 'none', send: () => postAddress({ addresses: [] }), status: 400, type: 'malformed' },
  ];
  for (const c of cases) {
    const r = await c.send();
    assert.equal(r.status, c.status, `${c.desc}: ${r.text}`);
    assert.equal(r.json.type, problem(c.type), c.desc);
    assert.ok(!r.text.includes(device.eabHmacKey), c.desc);
  }
  assert.equal(broker.addressCalls.length, before + 1, 'only the first request reached setAddresses');

  await broker.store.putDevice({ ...device, removedAt: new Date().toISOString() });
  const removed = await postAddress({ addresses: ['10.0.0.6'] });
  assert.equal(removed.status, 403);
  assert.equal(removed.json.type, problem('unauthorized'));
  assert.equal(broker.addressCalls.length, before + 1);
  await broker.store.putDevice(device);
});

test('a failing update is a 500 serverInternal with its message, no stack', async () => {
  failNext = 'xi8qz.example.com: rfc2136 update refused: NOTAUTH';
  const r = await postAddress({ addresses: ['10.0.0.7'] });
  assert.equal(r.status, 500);
  assert.equal(r.json.type, problem('serverInternal'));
  assert.equal(r.json.detail, 'address: xi8qz.example.com: rfc2136 update refused: NOTAUTH');
  assert.doesNotMatch(r.text, /\bat .*\.ts:\d+/);
});
