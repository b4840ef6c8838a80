// The worker's pure decisions: what a failed attempt leads to, how long a device waits, and the
// rate budget across one claimed batch. Fixed dates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcmeNetworkError, AcmeProblemError, AcmeTimeoutError } from '../../../src/acme/errors.ts';
import type { BrokerCertificate, BrokerOrder, LedgerEntry } from '../../../src/broker/types.ts';
import { reserveSlots, toLedger } from '../../../src/broker/upstream/budget-gate.ts';
import { decideFailure, PermanentOrderError, retryAfterSeconds } from '../../../src/broker/upstream/failure.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const ACME = 'urn:ietf:params:acme:error:';

function order(over: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: 'o1', account: 'a1', device: 'd1', identifiers: ['x.fleet.example.com'], status: 'processing',
    createdAt: NOW.toISOString(), expiresAt: NOW.toISOString(), csrPem: 'csr', finalizedAt: NOW.toISOString(),
    replaces: null, renewal: false, notBefore: null, lease: null, upstreamOrderUrl: null, attempts: 0,
    certificate: null, error: null, ...over,
  };
}

const problem = (type: string, status: number, retryAfter: Date | null = null) => new AcmeProblemError(ACME + type, `${type} detail`, status, null, retryAfter);

describe('decideFailure', () => {
  const cases: { desc: string; err: unknown; attempts?: number; expect: string; notBeforeMs?: number }[] = [
    { desc: 'a network failure is retried after the first back-off', err: new AcmeNetworkError('https://ca/x', 'ECONNREFUSED', new Error('refused')), expect: 'retry', notBeforeMs: 30_000 },
    { desc: 'a timeout, third attempt: back-off doubled twice', err: new AcmeTimeoutError('order', 600), attempts: 2, expect: 'retry', notBeforeMs: 120_000 },
    { desc: 'a 5xx is retried', err: problem('serverInternal', 500), expect: 'retry', notBeforeMs: 30_000 },
    { desc: 'rateLimited waits for the CA\'s Retry-After', err: problem('rateLimited', 429, new Date(NOW.getTime() + 3_600_000)), expect: 'retry', notBeforeMs: 3_600_000 },
    { desc: 'rejectedIdentifier is final at once', err: problem('rejectedIdentifier', 400), expect: `invalid ${ACME}rejectedIdentifier` },
    { desc: 'caa is final at once', err: problem('caa', 403), expect: `invalid ${ACME}caa` },
    { desc: 'badCSR is final at once', err: problem('badCSR', 400), expect: `invalid ${ACME}badCSR` },
    { desc: 'unauthorized on the first attempt is retried', err: problem('unauthorized', 403), expect: 'retry', notBeforeMs: 30_000 },
    { desc: 'unauthorized on the third attempt is final', err: problem('unauthorized', 403), attempts: 2, expect: `invalid ${ACME}unauthorized` },
    { desc: 'anything on the sixth attempt is final', err: new Error('dns-01 propagation'), attempts: 5, expect: `invalid ${ACME}serverInternal` },
    { desc: 'the broker\'s own final errors keep their type', err: new PermanentOrderError('rejectedIdentifier', 'outside'), expect: `invalid ${ACME}rejectedIdentifier` },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const d = decideFailure(order({ attempts: c.attempts ?? 0 }), c.err, NOW);
      assert.equal(d.attempts, (c.attempts ?? 0) + 1);
      if (d.kind === 'retry') {
        assert.equal('retry', c.expect);
        assert.equal(d.notBefore.getTime() - NOW.getTime(), c.notBeforeMs);
      } else {
        assert.equal(`invalid ${d.problem.type}`, c.expect);
        assert.ok(d.problem.detail.length > 0);
      }
    });
  }
});

describe('retryAfterSeconds', () => {
  it('is the time until notBefore, else a short default', () => {
    assert.equal(retryAfterSeconds(order(), NOW), 3);
    assert.equal(retryAfterSeconds(order({ notBefore: new Date(NOW.getTime() + 90_500).toISOString() }), NOW), 91);
    assert.equal(retryAfterSeconds(order({ notBefore: new Date(NOW.getTime() - 5000).toISOString() }), NOW), 3);
  });
});

describe('reserveSlots', () => {
  const registered = (n: string) => n.split('.').slice(-2).join('.');
  const limits = { ordersPer3Hours: 300, certsPerDomainPerWeek: 3 };
  const entry = (daysAgo: number, exempt = false): LedgerEntry => ({ at: new Date(NOW.getTime() - daysAgo * DAY).toISOString(), account: 'acct', domains: ['example.com'], exempt });

  it('a burst never goes past the limit: reservations count against the rest of the batch', () => {
    const orders = ['a', 'b', 'c', 'd'].map((n, i) => order({ id: n, identifiers: [`${n}.fleet.example.com`], finalizedAt: new Date(NOW.getTime() + i).toISOString() }));
    const slots = reserveSlots({ orders, ledger: [entry(6)], limits, account: 'acct', now: NOW, registered, replaced: () => null });
    assert.deepEqual(slots.map((s) => s.at?.toISOString() ?? null), [null, null, new Date(NOW.getTime() + DAY).toISOString(), new Date(NOW.getTime() + 7 * DAY).toISOString()]);
    assert.deepEqual(slots[0].entry, { at: NOW.toISOString(), account: 'acct', domains: ['example.com'], exempt: false, order: 'a' });
  });

  it('exempt ledger entries do not count per domain; a renewal of a recent brokered certificate for the same names is exempt', () => {
    const cert = { names: ['r.fleet.example.com'], notBefore: new Date(NOW.getTime() - 60 * DAY).toISOString() } as BrokerCertificate;
    const renewal = order({ id: 'r', identifiers: ['r.fleet.example.com'], replaces: 'cid', renewal: true });
    const other = order({ id: 'n', identifiers: ['n.fleet.example.com'] });
    const slots = reserveSlots({ orders: [renewal, other], ledger: [entry(1), entry(1), entry(1), entry(1, true)], limits, account: 'acct', now: NOW, registered, replaced: () => cert });
    assert.equal(slots[0].at, null);
    assert.equal(slots[0].entry?.exempt, true);
    assert.equal(slots[1].at?.toISOString(), new Date(NOW.getTime() + 6 * DAY).toISOString());
  });

  it('no limits (rateBudget: no): everything now', () => {
    const slots = reserveSlots({ orders: [order(), order({ id: 'o2' })], ledger: [entry(0), entry(0), entry(0)], limits: null, account: 'acct', now: NOW, registered, replaced: () => null });
    assert.deepEqual(slots.map((s) => s.at), [null, null]);
  });
});

describe('toLedger', () => {
  it('counts upstream orders per account, a device order placed again (a broker died before recording it) once per domain, exempt renewals nowhere', () => {
    const e = (at: string, order?: string, exempt = false): LedgerEntry => ({ at, account: 'up', domains: ['example.com'], exempt, ...(order ? { order } : {}) });
    const ledger = toLedger([e('2026-12-02T10:00:00Z', 'o1'), e('2026-12-02T10:05:00Z', 'o1'), e('2026-12-02T10:06:00Z', 'o2'), e('2026-12-02T10:07:00Z'), e('2026-12-02T10:08:00Z', 'o3', true)]);
    assert.equal(ledger.orders.length, 4);
    assert.deepEqual(ledger.certs.map((c) => c.at), ['2026-12-02T10:05:00Z', '2026-12-02T10:06:00Z', '2026-12-02T10:07:00Z']);
  });
});
