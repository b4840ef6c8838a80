import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetPlanner, registeredDomains, renewalExempt } from '../../../src/plan/budget.ts';

const now = new Date('2027-03-01T00:00:00Z');
const H = 3_600_000;
const at = (h: number) => new Date(now.getTime() + h * H);
const iso = (h: number) => at(h).toISOString();

test('orders per account: the 301st in 3 hours waits for the oldest to leave the window', () => {
  const orders = Array.from({ length: 300 }, (_, i) => ({ at: iso(-2.5 + i * 0.001), account: 'acct' }));
  const p = new BudgetPlanner({ orders, certs: [] }, { ordersPer3Hours: 300, certsPerDomainPerWeek: 50 }, now);
  assert.equal(p.reserve({ account: 'acct', domains: ['a.com'], exempt: false })!.toISOString(), iso(0.5));
  assert.equal(p.reserve({ account: 'acct', domains: ['b.com'], exempt: false })!.toISOString(), iso(0.501), 'the next one queues behind');
  assert.equal(p.reserve({ account: 'other', domains: ['c.com'], exempt: false }), null, 'another account has its own budget');
  assert.equal(p.reserve({ account: 'acct', domains: ['d.com'], exempt: true }), null, 'exempt renewals are not counted');
});

test('certificates per registered domain: 50 a week, counted for each domain of the order', () => {
  const certs = Array.from({ length: 50 }, (_, i) => ({ at: iso(-24 * 6 + i), domains: ['example.com'] }));
  const p = new BudgetPlanner({ orders: [], certs }, { ordersPer3Hours: 300, certsPerDomainPerWeek: 50 }, now);
  assert.equal(p.reserve({ account: 'a', domains: ['example.com', 'example.org'], exempt: false })!.toISOString(), iso(24));
  assert.equal(p.reserve({ account: 'a', domains: ['example.org'], exempt: false }), null);
  const under = new BudgetPlanner({ orders: [], certs: certs.slice(1) }, { ordersPer3Hours: 300, certsPerDomainPerWeek: 50 }, now);
  assert.equal(under.reserve({ account: 'a', domains: ['example.com'], exempt: false }), null);
  assert.notEqual(under.reserve({ account: 'a', domains: ['example.com'], exempt: false }), null, 'the reservation counted');
});

test('renewals Let\'s Encrypt does not count', () => {
  const window = { start: at(-1), end: at(1) };
  assert.equal(renewalExempt({ replaces: true, window, sameIdentifiers: false, previousNotBefore: null, now }), true);
  assert.equal(renewalExempt({ replaces: false, window, sameIdentifiers: false, previousNotBefore: null, now }), false);
  assert.equal(renewalExempt({ replaces: true, window: { start: at(-2), end: at(-1) }, sameIdentifiers: false, previousNotBefore: null, now }), false, 'outside the window');
  assert.equal(renewalExempt({ replaces: false, window: null, sameIdentifiers: true, previousNotBefore: at(-119 * 24), now }), true);
  assert.equal(renewalExempt({ replaces: false, window: null, sameIdentifiers: true, previousNotBefore: at(-121 * 24), now }), false);
  assert.equal(renewalExempt({ replaces: false, window: null, sameIdentifiers: false, previousNotBefore: at(-1), now }), false);
});

test('registered domains through the function given, wildcards folded', () => {
  const psl = (n: string) => n.split('.').slice(-2).join('.');
  assert.deepEqual(registeredDomains(['a.example.com', '*.example.com', 'x.example.org'], psl), ['example.com', 'example.org']);
});
