import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderBlockedUntil, recordFailure, currentFailure } from '../../../src/plan/backoff.ts';

const now = new Date('2027-03-01T00:00:00Z');
const H = 3_600_000;
const at = (h: number) => new Date(now.getTime() + h * H);
const far = at(90 * 24);
const fail = { message: 'unauthorized: 404', errorType: 'unauthorized', retryAfter: null };

test('back-off: 1 h, doubling per consecutive failure, at most 24 h', () => {
  let rec;
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = at(i * 100);
    rec = recordFailure(rec, 'ctx', fail, t, far);
    waits.push((Date.parse(rec.until) - t.getTime()) / H);
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 24, 24, 24]);
  assert.equal(rec!.count, 8);
  assert.equal(rec!.first, now.toISOString());
});

test('never longer than a quarter of the time left, at least an hour', () => {
  let rec;
  for (let i = 0; i < 6; i++) rec = recordFailure(rec, 'ctx', fail, now, at(40));
  assert.equal(rec!.until, at(10).toISOString());
  rec = recordFailure(rec, 'ctx', fail, now, at(2));
  assert.equal(rec.until, at(1).toISOString());
});

test('a changed config or line starts over; --retry skips the back-off but never a rateLimited Retry-After', () => {
  const a = recordFailure(recordFailure(undefined, 'ctx', fail, now, far), 'ctx', fail, now, far);
  assert.equal(a.count, 2);
  assert.equal(currentFailure(a, 'other'), null);
  assert.equal(recordFailure(a, 'other', fail, now, far).count, 1);
  assert.equal(orderBlockedUntil(a, at(1), false)!.toISOString(), at(2).toISOString());
  assert.equal(orderBlockedUntil(a, at(1), true), null);
  assert.equal(orderBlockedUntil(a, at(3), false), null);
  const limited = recordFailure(a, 'ctx', { message: 'too many', errorType: 'rateLimited', retryAfter: at(30) }, now, far);
  assert.equal(orderBlockedUntil(limited, at(10), true)!.toISOString(), at(30).toISOString());
  assert.equal(orderBlockedUntil(limited, at(10), false)!.toISOString(), at(30).toISOString());
  const next = recordFailure(limited, 'ctx', fail, at(5), far);
  assert.equal(next.rateLimitedUntil, at(30).toISOString(), 'a later failure keeps a pending Retry-After');
});
