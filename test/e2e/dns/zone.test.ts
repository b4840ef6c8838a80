/** Zone discovery, CNAME delegation and propagation checks against a real BIND on loopback. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { query } from '../../../src/dns/client.ts';
import { PropagationError } from '../../../src/dns/errors.ts';
import { createRfc2136Provider } from '../../../src/dns/providers/rfc2136/provider.ts';
import type { TsigKey } from '../../../src/dns/tsig.ts';
import { RRType } from '../../../src/dns/types.ts';
import { authoritativeServers, challengeName, findZone, followCnames, waitForPropagation } from '../../../src/dns/zone.ts';
import { startBind, type RunningBind } from '../../support/bind.ts';

const key: TsigKey = { name: 'certfleet-e2e', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
// chain0 -> chain1 -> … -> chain10: ten hops in all.
const chainRecords = Array.from({ length: 10 }, (_, i) => `chain${i} CNAME chain${i + 1}`);
const bigRecords = Array.from({ length: 20 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'b'.repeat(98)}"`);

describe('zone helpers against BIND', () => {
  let bind: RunningBind;
  let resolver: { host: string; port: number };
  let label: string;

  before(async () => {
    bind = await startBind({
      tsig: key,
      zones: [
        {
          name: 'int.example.com',
          records: [
            '_acme-challenge.www CNAME _acme-challenge.www.validation.test.',
            '_acme-challenge.two CNAME hop1.validation.test.',
            '_acme-challenge.loop CNAME loop2',
            'loop2 CNAME _acme-challenge.loop',
            ...bigRecords,
            ...chainRecords,
          ],
        },
        { name: 'validation.test', records: ['hop1 CNAME hop2', 'hop2 CNAME final'] },
      ],
    });
    resolver = { host: '127.0.0.1', port: bind.port };
    label = `127.0.0.1:${bind.port}`;
  });
  after(() => bind?.stop());

  it('finds the zone by walking up SOA queries', async () => {
    assert.equal(await findZone('_acme-challenge.deep.sub.int.example.com', resolver), 'int.example.com');
    assert.equal(await findZone('INT.example.com.', resolver), 'int.example.com');
    assert.equal(await findZone('x.validation.test', resolver), 'validation.test');
    await assert.rejects(findZone('a.nowhere.invalid', resolver), new RegExp(`a\\.nowhere\\.invalid: no SOA found at ${label}`));
  });

  it('lists the authoritative servers with their addresses', async () => {
    assert.deepEqual(await authoritativeServers('int.example.com', resolver, { port: bind.port }), [
      { nsName: 'ns.int.example.com', host: '127.0.0.1', port: bind.port },
    ]);
  });

  it('follows CNAME delegation, hop by hop, and stops at names that are no CNAME', async () => {
    assert.equal(await followCnames(challengeName('www.int.example.com'), resolver), '_acme-challenge.www.validation.test');
    assert.equal(await followCnames(challengeName('*.two.int.example.com'), resolver), 'final.validation.test');
    assert.equal(await followCnames('www.int.example.com', resolver), 'www.int.example.com');
  });

  it('detects a CNAME loop', async () => {
    await assert.rejects(
      followCnames('_acme-challenge.loop.int.example.com', resolver),
      /loop _acme-challenge\.loop\.int\.example\.com -> loop2\.int\.example\.com -> _acme-challenge\.loop\.int\.example\.com/,
    );
  });

  it('follows at most 8 CNAME hops', async () => {
    assert.equal(await followCnames('chain2.int.example.com', resolver), 'chain10.int.example.com');
    await assert.rejects(followCnames('chain1.int.example.com', resolver), /more than 8 hops: chain1\.int\.example\.com -> /);
  });

  it('falls back to TCP for an answer too big for UDP', async () => {
    const answer = await query(resolver, 'big.int.example.com', RRType.TXT, { timeoutMs: 1000 });
    assert.equal(answer.tc, false);
    assert.equal(answer.answers.length, 20);
  });

  it('presents through a CNAME into another zone and waits until it is served', async () => {
    const target = await followCnames(challengeName('www.int.example.com'), resolver);
    const zone = await findZone(target, resolver);
    assert.equal(zone, 'validation.test');
    const provider = createRfc2136Provider({ server: resolver, tsig: key });
    const value = randomBytes(32).toString('base64url');
    await provider.present(target, value);
    try {
      const servers = await authoritativeServers(zone, resolver, { port: bind.port });
      await waitForPropagation({ records: [{ name: target, value }], servers, timeoutMs: 3000, intervalMs: 100 });
    } finally {
      await provider.cleanup(target, value);
    }
  });

  it('times out naming the server that lacks the record and the one that does not answer', async () => {
    const name = '_acme-challenge.absent.validation.test';
    const started = Date.now();
    const dead = { host: '127.0.0.1', port: 1 };
    await assert.rejects(
      waitForPropagation({ records: [{ name, value: 'v' }], servers: [resolver, dead], timeoutMs: 600, intervalMs: 200, queryTimeoutMs: 200 }),
      (e: unknown) => {
        assert.ok(e instanceof PropagationError);
        assert.deepEqual(e.missing.map((m) => [m.server, m.name, m.value, m.reason?.split(':')[0]]), [
          [label, name, 'v', undefined],
          ['127.0.0.1:1', name, 'v', 'NETWORK'],
        ]);
        assert.match(e.message, new RegExp(`${label} lacks TXT ${name} "v"`));
        return true;
      },
    );
    assert.ok(Date.now() - started < 3000);
  });
});
