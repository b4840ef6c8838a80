import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAriAnswer, applyAriError, ariPollDue, ariWindowFor } from '../../../src/plan/ari-schedule.ts';

const now = new Date('2027-03-01T00:00:00Z');
const H = 3_600_000;
const at = (h: number) => new Date(now.getTime() + h * H);
const answer = (startH: number, endH: number, retryAfterSeconds: number | null = 21_600) => ({ start: at(startH), end: at(endH), explanationURL: null, retryAfterSeconds });

test('the moment is drawn inside the window and kept while the window is unchanged', () => {
  const first = applyAriAnswer(undefined, 'A.1', answer(10, 20), now, () => 0.25);
  assert.equal(first.window!.renewAt, at(12.25).toISOString(), 'a quarter into the window less its last hour');
  const again = applyAriAnswer(first, 'A.1', answer(10, 20), at(6), () => 0.9);
  assert.equal(again.window!.renewAt, at(12.25).toISOString(), 'same window: same moment');
  const moved = applyAriAnswer(again, 'A.1', answer(-1, -0.5), at(7), () => 0.5);
  assert.equal(moved.window!.renewAt, at(-0.875).toISOString(), 'a moved window gets a new draw (from its first half, it is under 2 hours)');
  const other = applyAriAnswer(first, 'B.2', answer(10, 20), now, () => 0);
  assert.equal(other.window!.renewAt, at(10).toISOString(), 'another certificate: a new draw');
  for (const r of [0, 0.5, 0.999999]) {
    const w = applyAriAnswer(undefined, 'A.1', answer(10, 13), now, () => r).window!;
    assert.ok(w.renewAt >= w.start && Date.parse(w.renewAt) < Date.parse(w.end) - H, `${r}: ${w.renewAt} leaves an hourly run inside the window`);
  }
});

test('Retry-After is clamped to 1 minute – 1 day; none or an error means 6 hours', () => {
  const cases: [number | null, number][] = [[21_600, 6], [5, 1 / 60], [10 * 86_400, 24], [null, 6], [3600, 1]];
  for (const [seconds, hours] of cases) {
    assert.equal(applyAriAnswer(undefined, 'A.1', answer(10, 20, seconds), now, Math.random).nextPoll, at(hours).toISOString(), `Retry-After ${seconds}`);
  }
  const prev = applyAriAnswer(undefined, 'A.1', answer(10, 20), now, () => 0.5);
  const failed = applyAriError(prev, 'A.1', 'HTTP 500', at(6));
  assert.equal(failed.nextPoll, at(12).toISOString());
  assert.deepEqual(failed.window, prev.window, 'the last window still holds after an error');
  assert.equal(failed.error, 'HTTP 500');
  assert.equal(applyAriError(prev, 'B.2', 'x', now).window, null, 'not for another certificate');
  const empty = applyAriAnswer(prev, 'A.1', answer(20, 10), at(6), Math.random);
  assert.match(empty.error!, /ends .* before it starts/);
  assert.deepEqual(empty.window, prev.window);
});

test('a poll is due for a new certificate and once Retry-After has passed; the window is only for its own certificate', () => {
  const rec = applyAriAnswer(undefined, 'A.1', answer(10, 20, 3600), now, () => 0.5);
  assert.equal(ariPollDue(undefined, 'A.1', now), true);
  assert.equal(ariPollDue(rec, 'A.1', at(0.5)), false);
  assert.equal(ariPollDue(rec, 'A.1', at(1)), true);
  assert.equal(ariPollDue(rec, 'B.2', at(0.5)), true, 'a renewed certificate is asked about at once');
  assert.equal(ariWindowFor(rec, 'A.1')!.renewAt.toISOString(), at(14.5).toISOString());
  assert.equal(ariWindowFor(rec, 'B.2'), null);
  assert.equal(ariWindowFor(rec, null), null);
});
