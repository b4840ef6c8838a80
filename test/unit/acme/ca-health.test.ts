import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaHealth, CaUnresponsiveError, RunInterruptedError } from '../../../src/acme/ca-health.ts';
import { AcmeNetworkError } from '../../../src/acme/errors.ts';

describe('CaHealth', () => {
  it('after the budget is spent on unanswered requests, the rest fail at once', async () => {
    const h = new CaHealth('https://ca.test/dir', 1000);
    assert.equal(await h.run('a', async () => 1), 1);
    assert.equal(h.note(new AcmeNetworkError('https://ca.test/dir', 'ECONNREFUSED', null), 1000), false, 'a refusal is an answer');
    assert.equal(h.note(new AcmeNetworkError('https://ca.test/dir', 'ECONNABORTED', null), 1000), true);
    await assert.rejects(h.run('b', async () => assert.fail('not asked')), (err: Error) => err instanceof CaUnresponsiveError && /did not answer for 1 s/.test(err.message));
  });

  it('an abort gives up the request in flight and refuses the next', async () => {
    const ac = new AbortController();
    const h = new CaHealth('https://ca.test/dir', 1000, ac.signal);
    const pending = h.run('order', () => new Promise(() => {}));
    ac.abort();
    await assert.rejects(pending, RunInterruptedError);
    await assert.rejects(h.run('next', async () => 1), RunInterruptedError);
  });
});
