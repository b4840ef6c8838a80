// The batching dns-01 layer against a real BIND: many orders' records in one UPDATE and one
// propagation wait; an order whose record cannot be written fails alone; removals batched too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBatchSolver } from '../../../src/broker/upstream/batch-solver.ts';
import type { DnsSetup } from '../../../src/config/dns.ts';
import type { TsigKey } from '../../../src/dns/tsig.ts';
import { startBind, type RunningBind } from '../../support/bind.ts';
import { served } from '../dns/providers/contract.ts';

const ZONE = `batch${randomBytes(3).toString('hex')}.example.com`;
const LOCKED = `locked${randomBytes(3).toString('hex')}.example.com`;
const key: TsigKey = { name: 'batch-unit.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

describe('batching dns-01 solver against BIND', () => {
  let bind: RunningBind;
  before(async () => {
    bind = await startBind({ tsig: key, zones: [{ name: ZONE }, { name: LOCKED, allowUpdate: false }] });
  });
  after(() => bind?.stop());

  const setup = (name: string, zone: string): DnsSetup => {
    const server = { host: '127.0.0.1', port: bind.port };
    return { name, line: 1, zones: [zone], provider: { kind: 'rfc2136', server, tsig: key }, nameservers: [server], propagationTimeoutSeconds: 5 };
  };
  const approved = () => bind.log().split('\n').filter((l) => /signer ".*" approved/.test(l)).length;

  it('12 orders at once: one UPDATE for the adds, one propagation wait, one UPDATE for the removals; the order in a refusing zone fails alone', async () => {
    const logs: string[] = [];
    const solver = createBatchSolver({ setups: [setup('fleet', ZONE), setup('locked', LOCKED)], log: (m) => logs.push(m), intervalMs: 200, maxGatherMs: 5000 });
    const names = [...Array.from({ length: 11 }, (_, i) => `d${i}.${ZONE}`), `d0.${LOCKED}`];
    const before = approved();
    const results = await Promise.allSettled(names.map((name, i) => solver.participate(async () => {
      // Orders arrive spread out, as their newOrder answers do.
      await new Promise((r) => setTimeout(r, i * 20));
      const ka = `token${i}.thumb`;
      await solver.present(name, `token${i}`, ka);
      try {
        await solver.settle!([{ identifier: name, token: `token${i}`, keyAuthorization: ka }]);
        return await served({ host: '127.0.0.1', port: bind.port }, `_acme-challenge.${name}`);
      } finally {
        await solver.cleanup(name, `token${i}`, ka);
      }
    })));
    for (const r of results.slice(0, 11)) {
      assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
      assert.equal((r as PromiseFulfilledResult<string[]>).value.length, 1, 'its record was served when settle returned');
    }
    const failed = results[11];
    assert.equal(failed.status, 'rejected');
    assert.match(String((failed as PromiseRejectedResult).reason), new RegExp(`add TXT _acme-challenge\\.d0\\.${LOCKED.replace(/\./g, '\\.')}: .*REFUSED`));
    await solver.drain();
    const counters = solver.counters();
    // One batched add and one batched removal for [dns:fleet]; the refusing setup's one record was
    // tried alone, and its removal too (an add whose answer was lost may have happened).
    assert.deepEqual(counters, { dnsUpdateMessages: 2 + 2, propagationWaits: 1 }, logs.join('\n'));
    assert.equal(approved() - before, 2, 'BIND approved one add and one removal message; the refused one is not approved');
    for (const name of names.slice(0, 3)) assert.deepEqual(await served({ host: '127.0.0.1', port: bind.port }, `_acme-challenge.${name}`), [], 'removed');
  });
});
