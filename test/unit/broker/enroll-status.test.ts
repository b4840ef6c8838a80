// Enrollment rules, address checks and the status a store gives.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addressesProblem, createAddressWriter } from '../../../src/broker/addresses.ts';
import { checkNames, DEVICE_ID, enrolledDevice } from '../../../src/broker/enroll.ts';
import type { BrokerSettings } from '../../../src/broker/settings.ts';
import { brokerStatus, formatStatus, redactUrl } from '../../../src/broker/status.ts';
import { openDirStore } from '../../../src/broker/store/dir-store.ts';
import type { DnsSetup } from '../../../src/config/dns.ts';

const setups = [{ name: 'fleet', line: 1, zones: ['fleet.example.com'], provider: { kind: 'exec', command: '/bin/true', timeoutSeconds: 5 }, nameservers: null, propagationTimeoutSeconds: 10 }] as unknown as DnsSetup[];

describe('enroll', () => {
  it('normalises names and refuses names outside every [dns:*] zone, naming each', () => {
    assert.deepEqual(checkNames(['Dev1.Fleet.Example.com.', '*.dev1.fleet.example.com', 'dev1.fleet.example.com'], setups), {
      names: ['*.dev1.fleet.example.com', 'dev1.fleet.example.com'], problems: [],
    });
    const bad = checkNames(['a.other.com', 'bad_name.fleet.example.com', '*.*.fleet.example.com'], setups);
    assert.deepEqual(bad.names, []);
    assert.equal(bad.problems.length, 3);
    assert.match(bad.problems[0]!, /"a\.other\.com" is under no zone/);
    assert.match(bad.problems[1]!, /"bad_name\.fleet\.example\.com" is not a DNS name/);
    assert.deepEqual(checkNames([], setups).problems, ['give at least one name']);
  });

  it('gives each enrollment a new key id (prefixed by the device) and MAC key', () => {
    const a = enrolledDevice('xi8qz', ['xi8qz.fleet.example.com'], new Date('2026-12-02T00:00:00Z'));
    const b = enrolledDevice('xi8qz', ['xi8qz.fleet.example.com'], new Date('2026-12-02T00:00:00Z'));
    assert.ok(a.eabKid.startsWith('xi8qz.') && a.eabKid !== b.eabKid);
    assert.notEqual(a.eabHmacKey, b.eabHmacKey);
    assert.equal(Buffer.from(a.eabHmacKey, 'base64url').length, 32);
    assert.equal(a.removedAt, null);
    assert.ok(DEVICE_ID.test('xi8qz') && !DEVICE_ID.test('../x') && !DEVICE_ID.test('-x'));
  });
});

describe('addresses', () => {
  it('takes 1–16 IP literals, private ones too', () => {
    assert.equal(addressesProblem(['10.1.1.4', 'fd00::4', '192.168.0.1']), null);
    assert.equal(addressesProblem([]), 'no address given');
    assert.match(addressesProblem(['10.0.0.1', 'example.com'])!, /not an IP address: "example\.com"/);
    assert.match(addressesProblem(Array.from({ length: 17 }, (_, i) => `10.0.0.${i}`))!, /at most 16/);
  });

  it('refuses a setup whose provider cannot write address records, before changing anything', async () => {
    const write = createAddressWriter(setups);
    const device = enrolledDevice('d', ['d.fleet.example.com'], new Date());
    await assert.rejects(write(device, ['10.0.0.1']), /\[dns:fleet\] exec cannot write address records/);
    await assert.rejects(write({ ...device, names: ['d.elsewhere.com'] }, ['10.0.0.1']), /no \[dns:\*\] section of the broker holds this name/);
  });
});

describe('status', () => {
  it('counts devices, certificates, the queue (renewals first) and the budget used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'broker-status-'));
    const store = await openDirStore(dir);
    const now = new Date('2026-12-02T12:00:00Z');
    try {
      await store.putDevice(enrolledDevice('a', ['a.fleet.example.com'], now));
      await store.putDevice({ ...enrolledDevice('b', ['b.fleet.example.com'], now), removedAt: now.toISOString() });
      const order = (id: string, renewal: boolean, finalizedAt: string) => ({
        id, account: 'acc', device: 'a', identifiers: ['a.fleet.example.com'], status: 'processing' as const, createdAt: finalizedAt, expiresAt: now.toISOString(),
        csrPem: 'x', finalizedAt, replaces: null, renewal, notBefore: null, lease: null, upstreamOrderUrl: null, attempts: 0, certificate: null, error: null,
      });
      await store.createOrder(order('o1', false, '2026-12-02T10:00:00Z'));
      await store.createOrder(order('o2', true, '2026-12-02T11:00:00Z'));
      await store.putCertificate({ id: 'c1', order: 'o0', account: 'acc', device: 'a', chainPem: 'x', certId: 'i.d', names: ['a.fleet.example.com'], notBefore: '2026-12-01T00:00:00Z', notAfter: '2027-01-15T00:00:00Z', issuedAt: '2026-12-01T00:00:00Z' });
      await store.appendLedger({ at: '2026-12-02T11:30:00Z', account: 'up', domains: ['example.com'], exempt: false });
      await store.appendLedger({ at: '2026-11-30T11:30:00Z', account: 'up', domains: ['example.com'], exempt: false });
      await store.appendLedger({ at: '2026-12-02T11:40:00Z', account: 'up', domains: ['example.com'], exempt: true });
      const settings = { store: { kind: 'dir', dir }, budget: { enabled: true, ordersPer3Hours: 300, certsPerDomainPerWeek: 50 } } as unknown as BrokerSettings;
      const s = await brokerStatus(store, settings, now);
      assert.deepEqual(s.devices.map((d) => [d.id, d.removed, d.certificates, d.notAfter]), [['a', false, 1, '2027-01-15T00:00:00Z'], ['b', true, 0, null]]);
      assert.deepEqual(s.queue.map((q) => q.order), ['o2', 'o1'], 'renewals first');
      assert.deepEqual(s.orders, { ready: 0, processing: 2, valid: 0, invalid: 0 });
      assert.deepEqual(s.budget.ordersPer3Hours, { used: 1, limit: 300 });
      assert.deepEqual(s.budget.certsPerDomainPerWeek.domains, { 'example.com': 2 });
      const text = formatStatus(s, now);
      assert.match(text, /^  a: a\.fleet\.example\.com; expires 2027-01-15T00:00:00Z \(43 days\)$/m);
      assert.match(text, /b \[removed\]/);
      assert.match(text, /1\/300 orders in 3 hours; certificates this week: example\.com 2\/50/);
      assert.ok(!JSON.stringify(s).includes((await store.getDevice('a'))!.eabHmacKey), 'no MAC key in the status');
    } finally {
      await store.close();
    }
    assert.equal(redactUrl('postgres://broker:secret@db:5432/fleet'), 'postgres://broker:…@db:5432/fleet');
  });
});
