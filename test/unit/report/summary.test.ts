import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlanItem } from '../../../src/plan/build-plan.ts';
import { failed, noteworthy, summaryText, type ItemResult, type RunSummary } from '../../../src/report/summary.ts';

const at = new Date('2027-03-01T00:00:00Z');
const DAY = 86_400_000;
const item = (name: string, hold: PlanItem['hold'] = null): PlanItem =>
  ({ line: 1, names: [name], identifiers: [name], keyType: 'ec', paths: { base: name, key: '', csr: '', cert: '', links: [] }, decision: { action: 'skip', reason: '', notAfter: null, renewAt: null, basis: 'lifetime', newKey: false, newCsr: false, warnings: [] }, cert: null, ari: null, hold, repairs: [] }) as PlanItem;
const result = (name: string, status: ItemResult['status'], notAfterDays: number, hold: PlanItem['hold'] = null): ItemResult =>
  ({ item: item(name, hold), status, notAfter: new Date(at.getTime() + notAfterDays * DAY), error: status === 'failed' ? 'boom' : null, errorType: null, warnings: [], repaired: [] });
const summary = (results: ItemResult[]): RunSummary => ({ mode: 'test', directory: 'x', at, results, deployments: [] });

test('--cron: nothing when nothing was tried and nothing expires soon', () => {
  const s = summary([result('a.example', 'unchanged', 60)]);
  assert.equal(noteworthy(s), false);
  assert.equal(failed(s), false);
});

test('a certificate expiring within 7 days is named on every run, --cron included', () => {
  const s = summary([result('a.example', 'unchanged', 60), result('b.example', 'unchanged', 6.5)]);
  assert.equal(noteworthy(s), true);
  assert.match(summaryText(s, { cron: true }), /^EXPIRES  ec  b\.example on 2027-03-07T12:00:00\.000Z$/m);
  assert.doesNotMatch(summaryText(s, { cron: true }), /a\.example/);
});

test('a certificate waiting for its back-off fails the run; --cron shows only attempts', () => {
  const hold = { kind: 'backoff' as const, until: new Date(at.getTime() + 3_600_000), failures: 2, lastError: 'unauthorized', rateLimited: false };
  const s = summary([result('w.example', 'waiting', 40, hold), result('r.example', 'renewed', 90)]);
  assert.equal(failed(s), true);
  const cron = summaryText(s, { cron: true });
  assert.doesNotMatch(cron, /w\.example/);
  assert.match(cron, /renewed  ec  r\.example/);
  assert.match(cron, /0 issued, 1 renewed, 0 unchanged, 0 failed, 1 waiting$/m);
  assert.match(summaryText(s), /waiting  ec  w\.example: failing \(2x, last: unauthorized\); next try 2027-03-01T01:00:00\.000Z/);
});

test('a deferred certificate is not a failure', () => {
  const s = summary([result('d.example', 'deferred', 30, { kind: 'deferred', until: new Date(at.getTime() + DAY) })]);
  assert.equal(failed(s), false);
  assert.match(summaryText(s), /deferred ec  d\.example: due; its slot under the CA's rate limits comes 2027-03-02/);
});
