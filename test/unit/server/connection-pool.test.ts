import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { ConnectionPool } from '../../../src/server/connection-pool.ts';
import { connectionFdBudget, FD_MARGIN, parseOpenFilesLimit } from '../../../src/server/fd-budget.ts';

// Unconnected sockets: real Socket objects whose destroy() and 'close' behave as in the server.
const sockets = (n: number): Socket[] => Array.from({ length: n }, () => new Socket());

test('at the cap the longest-waiting socket is closed for a new one', () => {
  const lines: string[] = [];
  const pool = new ConnectionPool(3, (l) => lines.push(l));
  const [a, b, c, d, e] = sockets(5);
  for (const s of [a, b, c]) assert.equal(pool.admit(s), true);
  assert.equal(pool.admit(d), true);
  assert.deepEqual([a, b, c, d].map((s) => s.destroyed), [true, false, false, false]);
  assert.equal(pool.admit(e), true);
  assert.deepEqual([b.destroyed, c.destroyed, d.destroyed, e.destroyed], [true, false, false, false]);
  assert.equal(pool.size, 3);
  assert.deepEqual(pool.counts, { shed: 2, refused: 0 });
  // The first shed is reported at once, later ones in the next summary.
  assert.deepEqual(lines, ['at 3 open connections: closed 1 idle or slow one(s) to make room']);
  pool.close();
  assert.equal(lines[1], 'at 3 open connections: closed 1 idle or slow one(s) to make room');
});

test('a socket with a request in progress is never shed; after its answer it waits as the newest', () => {
  const pool = new ConnectionPool(3, () => {});
  const [busy, b, c, d, e] = sockets(5);
  for (const s of [busy, b, c]) pool.admit(s);
  pool.requestStarted(busy);
  pool.admit(d);
  pool.admit(e);
  assert.deepEqual([busy, b, c, d, e].map((s) => s.destroyed), [false, true, true, false, false]);
  pool.requestEnded(busy);
  const [f] = sockets(1);
  pool.admit(f);
  // d waited longer than busy, whose wait began when its answer was done.
  assert.deepEqual([busy, d, e, f].map((s) => s.destroyed), [false, true, false, false]);
  pool.close();
});

test('pipelined requests keep a socket busy until the last answer is done', () => {
  const pool = new ConnectionPool(2, () => {});
  const [p, q, r, s] = sockets(4);
  pool.admit(p);
  pool.requestStarted(p);
  pool.requestStarted(p);
  pool.requestEnded(p);
  pool.admit(q);
  pool.admit(r); // q is the only waiting one
  assert.deepEqual([p.destroyed, q.destroyed, r.destroyed], [false, true, false]);
  pool.requestEnded(p);
  pool.admit(s); // p began waiting after r was admitted, so r goes
  assert.deepEqual([p.destroyed, r.destroyed, s.destroyed], [false, true, false]);
  pool.close();
});

test('a newcomer is refused only when every open socket is busy', () => {
  const lines: string[] = [];
  const pool = new ConnectionPool(2, (l) => lines.push(l));
  const [a, b, c] = sockets(3);
  pool.admit(a);
  pool.admit(b);
  pool.requestStarted(a);
  pool.requestStarted(b);
  assert.equal(pool.admit(c), false);
  assert.deepEqual([a.destroyed, b.destroyed, c.destroyed], [false, false, true]);
  assert.deepEqual(pool.counts, { shed: 0, refused: 1 });
  assert.deepEqual(lines, ['at 2 open connections: refused 1 new one(s), all others busy']);
  pool.close();
});

test('a socket closed by its client leaves the pool', async () => {
  const pool = new ConnectionPool(2, () => {});
  const [a, b] = sockets(2);
  pool.admit(a);
  pool.admit(b);
  a.destroy();
  await new Promise((r) => a.once('close', r));
  assert.equal(pool.size, 1);
  pool.close();
  assert.throws(() => new ConnectionPool(0), /^Error: connection cap 0: must be at least 1$/);
});

test('the open-files limit is read from /proc/<pid>/limits', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max open files            1024                 524288               files     ',
  ].join('\n');
  assert.equal(parseOpenFilesLimit(text), 1024);
  assert.equal(parseOpenFilesLimit(text.replace('1024 ', 'unlimited ')), Infinity);
  assert.equal(parseOpenFilesLimit('Max processes 10 10'), null);
});

test('the connection budget is the limit minus open descriptors and a margin (no limit without /proc)', async () => {
  const { existsSync, readFileSync, readdirSync } = await import('node:fs');
  if (!existsSync('/proc/self/limits')) return assert.equal(connectionFdBudget(), Infinity);
  const limit = parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'))!;
  const budget = connectionFdBudget();
  assert.ok(Number.isFinite(budget));
  const open = readdirSync('/proc/self/fd').length;
  assert.ok(Math.abs(budget - (limit - open - FD_MARGIN)) <= 2, `budget ${budget}, limit ${limit}, open ${open}`);
});
