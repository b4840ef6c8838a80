/**
 * A worker whose lease ran out between the claim and the start of the work (budget planning and
 * ledger writes come in between; with the 3-4 s leases of the crash tests, a loaded machine gets
 * there) places nothing upstream: another broker, or this one's next claim, may hold the order
 * by then, and its newOrder would be one too many.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDirStore } from '../../../src/broker/store/dir-store.ts';
import { createBatchSolver } from '../../../src/broker/upstream/batch-solver.ts';
import { workOrder } from '../../../src/broker/upstream/order-work.ts';
import { processing } from '../../support/broker-records.ts';

test('an order whose lease another broker holds by the time the work starts is left alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-order-work-'));
  const store = await openDirStore(dir);
  try {
    const now = new Date();
    await store.createOrder(processing('o1', 0));
    // Claimed by us, then run out, then taken by another broker.
    const [mine] = await store.claimOrders('me', new Date(now.getTime() - 10_000), 1000, 1);
    assert.ok(mine);
    assert.equal((await store.claimOrders('other', now, 60_000, 1)).length, 1);
    let asked = 0;
    const lines: string[] = [];
    const outcome = await workOrder({
      store, owner: 'me', now: () => now, leaseMs: 60_000, log: (l) => lines.push(l),
      session: async () => {
        asked++;
        throw new Error('the CA must not be asked');
      },
      solver: createBatchSolver({ setups: [], log: () => undefined }),
      profile: null,
      onUpstreamOrder: () => void asked++,
    }, mine);
    assert.equal(outcome, 'lost');
    assert.equal(asked, 0, 'no upstream session, no newOrder');
    const stored = await store.getOrder('o1');
    assert.equal(stored?.lease?.owner, 'other', "the other broker's lease stands");
    assert.equal(stored?.attempts, 0, 'no failed attempt recorded');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
