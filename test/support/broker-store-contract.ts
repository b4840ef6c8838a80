/**
 * The one test suite every BrokerStore passes (src/broker/store/store.ts), registered with
 * node:test by `storeContract`. Each test starts on an empty backend and leaves it to `cleanup`.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { BrokerStore } from '../../src/broker/store/store.ts';
import type { BrokerOrder } from '../../src/broker/types.ts';
import { account, at, certificate, device, ledger, MINUTE, order, processing, T0, when } from './broker-records.ts';

/**
 * Registers the contract tests under `describe(name)`. `open` opens a store on the backend under
 * test (each call a new instance on the same backend); `cleanup` runs after each test, once its
 * stores are closed, and must leave the backend empty for the next one.
 */
export function storeContract(name: string, open: () => Promise<BrokerStore>, cleanup: () => Promise<void>): void {
  describe(`broker store contract: ${name}`, () => {
    const live = new Set<BrokerStore>();
    const openStore = async (): Promise<BrokerStore> => {
      const store = await open();
      live.add(store);
      return store;
    };
    const closeStore = async (store: BrokerStore): Promise<void> => {
      live.delete(store);
      await store.close();
    };
    afterEach(async () => {
      for (const store of [...live]) await closeStore(store);
      await cleanup();
    });

    it('stores devices, finds them by id and EAB key id, and replaces them', async () => {
      const store = await openStore();
      assert.equal(await store.getDevice('d1'), null);
      await store.putDevice(device('d2'));
      await store.putDevice(device('d1'));
      assert.deepEqual(await store.getDevice('d1'), device('d1'));
      assert.deepEqual(await store.deviceByKid('d2.kid1'), device('d2'));
      const rotated = device('d1', { eabKid: 'd1.kid2', eabHmacKey: 'hmac-rotated', removedAt: at(0) });
      await store.putDevice(rotated);
      assert.equal(await store.deviceByKid('d1.kid1'), null);
      assert.deepEqual(await store.deviceByKid('d1.kid2'), rotated);
      const all = await store.listDevices();
      assert.deepEqual(all.map((d) => d.id).sort(), ['d1', 'd2']);
      assert.deepEqual(all.find((d) => d.id === 'd1'), rotated);
    });

    it('hands out copies: changing a record given or returned changes nothing stored', async () => {
      const store = await openStore();
      const given = device('d1');
      await store.putDevice(given);
      given.names.push('evil.example.com');
      const got = await store.getDevice('d1');
      assert.deepEqual(got, device('d1'));
      got!.names.push('evil.example.com');
      (await store.listDevices())[0].names.length = 0;
      assert.deepEqual(await store.getDevice('d1'), device('d1'));

      const acct = account('a1', 'd1');
      await store.createAccount(acct);
      (acct.jwk as Record<string, unknown>).x = 'changed';
      (await store.getAccount('a1'))!.contact.push('mailto:x@example.com');
      assert.deepEqual(await store.getAccount('a1'), account('a1', 'd1'));

      const o = order('o1', 'a1', 'd1');
      await store.createOrder(o);
      o.identifiers.push('evil.example.com');
      (await store.getOrder('o1'))!.identifiers.push('evil.example.com');
      (await store.listOrders({}))[0].identifiers.length = 0;
      assert.deepEqual(await store.getOrder('o1'), order('o1', 'a1', 'd1'));

      const c = certificate('c1', 'd1');
      await store.putCertificate(c);
      c.names.push('evil.example.com');
      (await store.getCertificate('c1'))!.names.push('evil.example.com');
      assert.deepEqual(await store.getCertificate('c1'), certificate('c1', 'd1'));
    });

    it('creates an account once per thumbprint and returns the first one after that', async () => {
      const store = await openStore();
      const first = account('a1', 'd1');
      assert.deepEqual(await store.createAccount(first), { account: first, created: true });
      const again = account('a2', 'd2', { thumbprint: first.thumbprint, contact: [] });
      assert.deepEqual(await store.createAccount(again), { account: first, created: false });
      assert.equal(await store.getAccount('a2'), null);
      assert.deepEqual(await store.getAccount('a1'), first);
      assert.deepEqual(await store.accountByThumbprint(first.thumbprint), first);
      assert.equal(await store.accountByThumbprint('thumb-unknown'), null);
      const other = account('a3', 'd1', { status: 'deactivated' });
      assert.deepEqual(await store.createAccount(other), { account: other, created: true });
    });

    it('keeps every field of an order and lists orders by account and state, newest last', async () => {
      const store = await openStore();
      const full = processing('o1', -5 * MINUTE, {
        account: 'a1', device: 'd1', identifiers: ['a.example.com', 'b.example.com'], replaces: 'aki.serial',
        renewal: true, notBefore: at(MINUTE), lease: { owner: 'broker-1', until: at(2 * MINUTE) },
        upstreamOrderUrl: 'https://ca.example/order/1', attempts: 3, certificate: 'o1',
        error: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'upstream: timed out' },
      });
      await store.createOrder(full);
      await store.createOrder(order('o2', 'a2', 'd2', { createdAt: at(-10 * MINUTE) }));
      await store.createOrder(order('o3', 'a1', 'd1', { createdAt: at(-MINUTE), status: 'valid' }));
      assert.deepEqual(await store.getOrder('o1'), full);
      assert.equal(await store.getOrder('missing'), null);
      await assert.rejects(store.createOrder(order('o1', 'a9', 'd9')), 'an order id is never reused');
      assert.deepEqual(await store.getOrder('o1'), full);
      const ids = (orders: BrokerOrder[]): string[] => orders.map((o) => o.id);
      assert.deepEqual(ids(await store.listOrders({})), ['o1', 'o2', 'o3']);
      assert.deepEqual(ids(await store.listOrders({ account: 'a1' })), ['o1', 'o3']);
      assert.deepEqual(ids(await store.listOrders({ status: ['ready', 'valid'] })), ['o2', 'o3']);
      assert.deepEqual(ids(await store.listOrders({ account: 'a1', status: ['processing'] })), ['o1']);
      assert.deepEqual(ids(await store.listOrders({ account: 'a2', status: ['processing'] })), []);
      assert.deepEqual(ids(await store.listOrders({ status: [] })), []);
    });

    it('updates an order only when it meets the expectation', async () => {
      const store = await openStore();
      const o = order('o1', 'a1', 'd1');
      await store.createOrder(o);
      assert.equal(await store.updateOrder('missing', {}, { attempts: 1 }), null);
      assert.equal(await store.updateOrder('o1', { status: 'processing' }, { attempts: 1 }), null);
      assert.deepEqual(await store.getOrder('o1'), o, 'a refused update changes nothing');
      const finalized = { status: 'processing' as const, csrPem: 'CSR', finalizedAt: at(0) };
      const updated = await store.updateOrder('o1', { status: 'ready' }, finalized);
      assert.deepEqual(updated, { ...o, ...finalized });
      assert.deepEqual(await store.getOrder('o1'), updated);
      assert.deepEqual(await store.updateOrder('o1', {}, {}), updated, 'an empty patch changes nothing');
      // lease owner: a named owner must hold a live lease at `now`; null means none, or one expired at `now`
      const leased = await store.updateOrder('o1', { leaseOwner: null, now: when(0) }, { lease: { owner: 'b1', until: at(MINUTE) } });
      assert.deepEqual(leased?.lease, { owner: 'b1', until: at(MINUTE) });
      assert.equal(await store.updateOrder('o1', { leaseOwner: 'b2', now: when(0) }, { attempts: 9 }), null);
      assert.equal(await store.updateOrder('o1', { leaseOwner: null, now: when(MINUTE / 2) }, { attempts: 9 }), null);
      assert.equal((await store.updateOrder('o1', { leaseOwner: 'b1', status: 'processing', now: when(0) }, { attempts: 1 }))?.attempts, 1);
      assert.equal(await store.updateOrder('o1', { leaseOwner: 'b1', status: 'ready', now: when(0) }, { attempts: 9 }), null);
      assert.equal(await store.updateOrder('o1', { leaseOwner: 'b1', now: when(MINUTE) }, { attempts: 9 }), null, 'its lease expired');
      const takenOver = await store.updateOrder('o1', { leaseOwner: null, now: when(MINUTE + 1) }, { lease: { owner: 'b2', until: at(3 * MINUTE) } });
      assert.deepEqual(takenOver?.lease, { owner: 'b2', until: at(3 * MINUTE) });
      assert.equal(await store.updateOrder('o1', { leaseOwner: 'b1', now: when(MINUTE + 2) }, { attempts: 9 }), null, 'the old owner lost it');
      const done = { status: 'invalid' as const, lease: null, error: { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no' } };
      const ended = await store.updateOrder('o1', { leaseOwner: 'b2', now: when(2 * MINUTE) }, done);
      assert.deepEqual(ended, { ...o, ...finalized, attempts: 1, ...done });
      assert.deepEqual(await store.getOrder('o1'), ended);
    });

    it('claims processing orders that are due: renewals first, then oldest finalizedAt', async () => {
      const store = await openStore();
      const orders = [
        processing('new-3', -3 * MINUTE),
        processing('renew-1', -MINUTE, { renewal: true }),
        processing('renew-2', -2 * MINUTE, { renewal: true }),
        processing('new-4', -4 * MINUTE),
        processing('later', -9 * MINUTE, { notBefore: at(MINUTE) }),
        processing('due', -MINUTE / 2, { notBefore: at(-1) }),
        order('ready', 'acct-q', 'dev-q'),
        processing('valid', -9 * MINUTE, { status: 'valid' }),
        processing('leased', -8 * MINUTE, { lease: { owner: 'other', until: at(MINUTE) } }),
      ];
      for (const o of orders) await store.createOrder(o);
      const first = await store.claimOrders('b1', when(0), 5 * MINUTE, 2);
      assert.deepEqual(first.map((o) => o.id), ['renew-2', 'renew-1']);
      for (const o of first) assert.deepEqual(o.lease, { owner: 'b1', until: at(5 * MINUTE) });
      assert.deepEqual((await store.getOrder('renew-2'))?.lease, { owner: 'b1', until: at(5 * MINUTE) });
      const rest = await store.claimOrders('b1', when(0), 5 * MINUTE, 10);
      assert.deepEqual(rest.map((o) => o.id), ['new-4', 'new-3', 'due']);
      assert.deepEqual(await store.claimOrders('b1', when(0), 5 * MINUTE, 10), []);
      const afterNotBefore = await store.claimOrders('b2', when(MINUTE + 1), 5 * MINUTE, 10);
      assert.deepEqual(afterNotBefore.map((o) => o.id), ['later', 'leased'], 'the order now due and the expired lease');
      assert.equal((await store.getOrder('ready'))?.lease, null);
    });

    it('never hands out a live lease again, and hands it out after it expired', async () => {
      const store = await openStore();
      await store.createOrder(processing('o1', -MINUTE));
      assert.equal((await store.claimOrders('b1', when(0), MINUTE, 10)).length, 1);
      assert.deepEqual(await store.claimOrders('b2', when(MINUTE - 1), MINUTE, 10), []);
      assert.deepEqual(await store.claimOrders('b1', when(MINUTE - 1), MINUTE, 10), [], 'not even to its owner');
      const taken = await store.claimOrders('b2', when(MINUTE + 1), MINUTE, 10);
      assert.deepEqual(taken.map((o) => [o.id, o.lease]), [['o1', { owner: 'b2', until: at(2 * MINUTE + 1) }]]);
    });

    it('gives concurrent claims disjoint orders', async () => {
      const first = await openStore();
      let second = first;
      if (first.kind === 'postgres') {
        second = await openStore();
      } else {
        await assert.rejects(open(), (error: Error) => {
          assert.match(error.message, /\S/);
          assert.doesNotMatch(error.message, /^\s+at /m, 'a message, not a stack');
          return true;
        }, 'a second instance on the same backend is refused');
      }
      const count = 60;
      for (let i = 0; i < count; i++) await first.createOrder(processing(`o${String(i).padStart(2, '0')}`, -i * 1000, { renewal: i % 3 === 0 }));
      const claimed: string[][] = [[], []];
      for (let round = 0; round < 20; round++) {
        const got = await Promise.all([first, second, first, second].map((s, i) => s.claimOrders(`b${i % 2}`, when(0), MINUTE, 4)));
        got.forEach((orders, i) => claimed[i % 2].push(...orders.map((o) => o.id)));
        if (got.every((orders) => orders.length === 0)) break;
      }
      const all = [...claimed[0], ...claimed[1]];
      assert.equal(new Set(all).size, all.length, `an order was claimed twice: ${all.sort().join(' ')}`);
      assert.equal(all.length, count);
      for (const [i, ids] of claimed.entries()) {
        for (const id of ids) assert.equal((await first.getOrder(id))?.lease?.owner, `b${i}`);
      }
    });

    it('lets exactly one of several concurrent updates take over an expired lease', async () => {
      const first = await openStore();
      const second = first.kind === 'postgres' ? await openStore() : first;
      await first.createOrder(processing('o1', -MINUTE, { lease: { owner: 'gone', until: at(-1) } }));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? second : first).updateOrder('o1', { leaseOwner: null, status: 'processing', now: when(0) },
          { lease: { owner: `b${i}`, until: at(MINUTE) }, attempts: i + 1 })));
      const winners = results.filter((o) => o !== null);
      assert.equal(winners.length, 1, `winners: ${winners.map((o) => o.lease?.owner).join(' ')}`);
      assert.deepEqual(await second.getOrder('o1'), winners[0]);
    });

    it('stores certificates, replaces one stored again, and finds them by ARI CertID and device', async () => {
      const store = await openStore();
      await store.putCertificate(certificate('c1', 'd1'));
      await store.putCertificate(certificate('c2', 'd2', { issuedAt: at(MINUTE) }));
      await store.putCertificate(certificate('c3', 'd1', { issuedAt: at(2 * MINUTE) }));
      const replaced = certificate('c1', 'd1', { chainPem: 'NEW CHAIN', notAfter: at(60 * MINUTE) });
      await store.putCertificate(replaced);
      assert.deepEqual(await store.getCertificate('c1'), replaced);
      assert.equal(await store.getCertificate('missing'), null);
      assert.deepEqual(await store.certificateByCertId('aki-c2.serial-c2'), certificate('c2', 'd2', { issuedAt: at(MINUTE) }));
      assert.equal(await store.certificateByCertId('aki-x.serial-x'), null);
      assert.deepEqual((await store.listCertificates({ device: 'd1' })).map((c) => c.id).sort(), ['c1', 'c3']);
      assert.deepEqual((await store.listCertificates()).map((c) => c.id).sort(), ['c1', 'c2', 'c3']);
      assert.deepEqual(await store.listCertificates({ device: 'd9' }), []);
    });

    it('returns ledger entries at or after a time, oldest first', async () => {
      const store = await openStore();
      await store.appendLedger(ledger(-2 * MINUTE, 'u1'));
      await store.appendLedger(ledger(0, 'u1', { domains: ['example.com', 'example.net'] }));
      await store.appendLedger(ledger(-MINUTE, 'u2', { exempt: true }));
      await store.appendLedger(ledger(MINUTE, 'u1', { domains: [] }));
      assert.deepEqual(await store.ledgerSince(when(-MINUTE)), [
        ledger(-MINUTE, 'u2', { exempt: true }),
        ledger(0, 'u1', { domains: ['example.com', 'example.net'] }),
        ledger(MINUTE, 'u1', { domains: [] }),
      ]);
      assert.equal((await store.ledgerSince(when(-60 * MINUTE))).length, 4);
      assert.deepEqual(await store.ledgerSince(when(MINUTE + 1)), []);
    });

    it('takes a nonce exactly once, and never once it expired', async () => {
      const store = await openStore();
      await store.addNonce('n1', when(MINUTE));
      await store.addNonce('n2', when(MINUTE));
      await store.addNonce('n3', when(-1));
      await store.addNonce('n4', when(1000));
      assert.equal(await store.takeNonce('n1', when(0)), true);
      assert.equal(await store.takeNonce('n4', when(1000)), false, 'expired at its expiresAt');
      assert.equal(await store.takeNonce('n1', when(0)), false);
      assert.equal(await store.takeNonce('unknown', when(0)), false);
      assert.equal(await store.takeNonce('n3', when(0)), false);
      assert.equal(await store.takeNonce('n2', when(MINUTE + 1)), false);
      assert.equal(await store.takeNonce('n2', when(0)), false, 'an expired nonce is forgotten');
    });

    it('keeps everything across close and reopen', async () => {
      let store = await openStore();
      await store.putDevice(device('d1'));
      await store.createAccount(account('a1', 'd1'));
      await store.createOrder(processing('o1', -MINUTE, { account: 'a1', device: 'd1' }));
      const [claimed] = await store.claimOrders('b1', when(0), MINUTE, 1);
      await store.putCertificate(certificate('c1', 'd1'));
      await store.appendLedger(ledger(0, 'u1'));
      await store.addNonce('n1', when(MINUTE));
      await closeStore(store);
      store = await openStore();
      assert.deepEqual(await store.getDevice('d1'), device('d1'));
      assert.deepEqual(await store.accountByThumbprint('thumb-a1'), account('a1', 'd1'));
      if (keepsLeasesAndNonces(store)) {
        assert.deepEqual(await store.getOrder('o1'), claimed);
        assert.deepEqual(await store.claimOrders('b2', when(1), MINUTE, 1), [], 'the lease survived');
      } else {
        assert.deepEqual(await store.getOrder('o1'), { ...claimed, lease: null });
      }
      assert.deepEqual(await store.certificateByCertId('aki-c1.serial-c1'), certificate('c1', 'd1'));
      assert.deepEqual(await store.ledgerSince(new Date(T0)), [ledger(0, 'u1')]);
      assert.equal(await store.takeNonce('n1', when(0)), keepsLeasesAndNonces(store));
    });
  });
}

/**
 * Whether leases and nonces outlive the store instance. PostgreSQL keeps them: brokers share them.
 * The embedded store holds them in memory only (dir-store.ts): one broker per directory, so after
 * a restart every order is free to be taken and clients ask for a new nonce.
 */
function keepsLeasesAndNonces(store: BrokerStore): boolean {
  return store.kind === 'postgres';
}
