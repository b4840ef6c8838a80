/**
 * The device-facing ACME server driven as devices drive it: acme-client over HTTPS with EAB,
 * the worker simulated by completing orders in the store.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { test } from 'node:test';
import * as acme from 'acme-client';
import { certIdOf } from '../../support/ari-cert-id.ts';
import { call, completeOrder, enroll, spkiOf, spkiOfKey, startBroker, type Broker } from './acme-server-harness.ts';
import type { Device } from '../../../src/broker/types.ts';

function clientFor(broker: Broker, device: Device, accountKey: Buffer | string): acme.Client {
  return new acme.Client({
    directoryUrl: `${broker.publicUrl}/directory`,
    accountKey,
    externalAccountBinding: { kid: device.eabKid, hmacKey: device.eabHmacKey },
    backoffMin: 50,
    backoffMax: 200,
    backoffAttempts: 40,
  });
}

/** acme-client's one axios instance trusts `caPem` for the rest of this file. */
function trust(caPem: string): void {
  acme.axios.defaults.httpsAgent = new Agent({ ca: caPem });
}

test('a device gets a certificate over HTTPS with acme-client: EAB, valid authorizations, its own CSR, the stored chain', async () => {
  const broker = await startBroker({ tls: true, onFinalized: (order, store) => void completeOrder(store, order.id) });
  try {
    trust(broker.caPem!);
    const device = await enroll(broker.store, 'xi8qz', ['xi8qz.example.com', 'www.xi8qz.example.com']);
    const client = clientFor(broker, device, await acme.crypto.createPrivateEcdsaKey());
    const [key, csr] = await acme.crypto.createCsr({ commonName: 'xi8qz.example.com', altNames: ['xi8qz.example.com', 'www.xi8qz.example.com'] });
    const challengeCalls: string[] = [];
    const chain = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['dns-01'],
      challengeCreateFn: async (authz) => void challengeCalls.push(authz.identifier.value),
      challengeRemoveFn: async () => {},
    });
    assert.deepEqual(challengeCalls, [], 'authorizations are valid from the start');
    assert.equal(broker.finalized.length, 1);
    const order = broker.finalized[0];
    assert.deepEqual(order.identifiers, ['www.xi8qz.example.com', 'xi8qz.example.com']);
    assert.equal(order.device, 'xi8qz');
    assert.equal(order.renewal, false);
    const stored = await broker.store.getCertificate(order.id);
    assert.equal(chain, stored!.chainPem, 'the device downloads exactly the stored chain');
    assert.equal(spkiOf(chain), spkiOfKey(key), "the certificate holds the CSR's key");
    assert.equal(spkiOf(order.csrPem!), spkiOfKey(key));
    const body = (pem: string | Buffer): string => String(pem).replace(/-----[^-]+-----|\s/g, '');
    assert.equal(body(order.csrPem!), body(csr), 'the CSR is stored unchanged');
    assert.ok(broker.lines.some((l) => /^POST \/acme\/order\/[\w-]+\/finalize 200$/.test(l)), broker.lines.join('\n'));
    assert.ok(!broker.lines.join('\n').includes(device.eabHmacKey), 'the EAB key is never logged');
  } finally {
    await broker.close();
  }
});

test('the directory offers EAB, ARI, the profile and the address endpoint, all under publicUrl', async () => {
  const broker = await startBroker({ tls: true, profile: 'shortlived' });
  try {
    trust(broker.caPem!);
    const client = new acme.Client({ directoryUrl: `${broker.publicUrl}/directory`, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await assert.rejects(client.createAccount({ termsOfServiceAgreed: true }), /External Account Binding/i);
    const dir = await call(broker, 'GET', `${broker.publicUrl}/directory`);
    assert.equal(dir.status, 200);
    assert.deepEqual(dir.json.meta, { externalAccountRequired: true, profiles: { shortlived: 'the profile this broker asks of its CA' } });
    for (const member of ['newNonce', 'newAccount', 'newOrder', 'renewalInfo', 'certfleetAddresses']) {
      assert.ok(String(dir.json[member]).startsWith(`${broker.publicUrl}/`), member);
    }
    assert.ok(dir.headers['replay-nonce']);
    const head = await call(broker, 'HEAD', `${broker.publicUrl}/acme/new-nonce`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['cache-control'], 'no-store');
    assert.equal((await call(broker, 'GET', `${broker.publicUrl}/acme/new-nonce`)).status, 204);
    const missing = await call(broker, 'GET', `${broker.publicUrl}/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/problem+json');
    assert.equal(missing.headers['replay-nonce'], undefined, 'no nonce is kept for paths that name no endpoint');
  } finally {
    await broker.close();
  }
});

test('an existing account is found again; a renewal with replaces is marked, renewalInfo is served for brokered certificates', async () => {
  const broker = await startBroker({
    tls: true,
    onFinalized: (order, store) => void completeOrder(store, order.id),
    // The shape of upstream/renewal-info.ts's answers: an object and seconds.
    renewalInfo: async (certId) => ({ body: { suggestedWindow: { start: '2027-01-01T00:00:00Z', end: '2027-01-02T00:00:00Z' }, certId }, retryAfter: 21600 }),
  });
  try {
    trust(broker.caPem!);
    const device = await enroll(broker.store, 'dev2', ['dev2.example.com']);
    const accountKey = await acme.crypto.createPrivateRsaKey(2048);
    const [, csr] = await acme.crypto.createCsr({ altNames: ['dev2.example.com'] });
    const options = { csr, termsOfServiceAgreed: true, challengeCreateFn: async () => {}, challengeRemoveFn: async () => {} };
    const first = await clientFor(broker, device, accountKey).auto(options);
    const certId = certIdOf(first);

    const again = clientFor(broker, device, accountKey);
    await again.createAccount({ termsOfServiceAgreed: true });
    const accounts = new Set(broker.finalized.map((o) => o.account));
    assert.equal(accounts.size, 1);
    assert.equal(again.getAccountUrl(), `${broker.publicUrl}/acme/acct/${[...accounts][0]}`, 'the same key finds the same account');

    const ri = await call(broker, 'GET', `${broker.publicUrl}/acme/renewal-info/${certId}`);
    assert.equal(ri.status, 200);
    assert.equal(ri.headers['retry-after'], '21600');
    assert.equal(ri.json.certId, certId);
    const unknown = await call(broker, 'GET', `${broker.publicUrl}/acme/renewal-info/AAAA.BBBB`);
    assert.equal(unknown.status, 404);

    const order = await again.createOrder({ identifiers: [{ type: 'dns', value: 'dev2.example.com' }], replaces: certId } as Parameters<acme.Client['createOrder']>[0]);
    assert.equal((order as { replaces?: string }).replaces, certId);
    const stored = (await broker.store.listOrders({})).find((o) => again.getAccountUrl().endsWith(o.account) && o.status === 'ready');
    assert.equal(stored?.renewal, true);
    assert.equal(stored?.replaces, certId);
    // Without replaces, the same names again are a renewal too.
    const plain = await again.createOrder({ identifiers: [{ type: 'dns', value: 'DEV2.example.com' }] });
    assert.deepEqual(plain.identifiers, [{ type: 'dns', value: 'dev2.example.com' }]);
    assert.equal((await broker.store.getOrder(String(plain.url).split('/').pop()!))?.renewal, true);
  } finally {
    await broker.close();
  }
});
