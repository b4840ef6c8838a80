/** The shared dns-01 solver: with stand-in lookups and providers, then with real BIND. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDns01Solver, Dns01Error, type Dns01Lookups, type Dns01Setup } from '../../../src/challenge/dns01.ts';
import type { DnsServer } from '../../../src/dns/client.ts';
import { PropagationError } from '../../../src/dns/errors.ts';
import { DnsProviderError, type DnsRecordProvider } from '../../../src/dns/providers/provider.ts';
import { createRfc2136Provider } from '../../../src/dns/providers/rfc2136/provider.ts';
import type { TsigKey } from '../../../src/dns/tsig.ts';
import { challengeValue, type PropagationOptions } from '../../../src/dns/zone.ts';
import { startBind, type RunningBind } from '../../support/bind.ts';
import { served } from '../dns/providers/contract.ts';

/** A provider writing into `records` (fqdn → values), logging each call. */
function fakeProvider(records: Map<string, string[]>, calls: string[], fail?: Error): DnsRecordProvider {
  return {
    async present(fqdn, value) {
      calls.push(`present ${fqdn} ${value}`);
      if (fail) throw fail;
      records.set(fqdn, [...(records.get(fqdn) ?? []), value]);
    },
    async cleanup(fqdn, value) {
      calls.push(`cleanup ${fqdn} ${value}`);
      records.set(fqdn, (records.get(fqdn) ?? []).filter((v) => v !== value));
    },
  };
}

const server = (host: string): DnsServer => ({ host, port: 53 });

function setup(label: string, zones: string[], provider: DnsRecordProvider, over: Partial<Dns01Setup> = {}): Dns01Setup {
  return { label, zones, provider, lookup: server('192.0.2.53'), nameservers: [server('192.0.2.1')], alsoCheck: [], propagationTimeoutMs: 5000, ...over };
}

describe('dns-01 solver with stand-in lookups', () => {
  const records = new Map<string, string[]>();
  const calls: string[] = [];
  const waits: PropagationOptions[] = [];
  const cnames: Record<string, string> = {
    '_acme-challenge.cn.example.net': '_acme-challenge.cn.validation.example.org',
    '_acme-challenge.out.example.net': 'x1.auth.acme-dns.test',
  };
  const lookups: Partial<Dns01Lookups> = {
    followCnames: async (name) => cnames[name] ?? name,
    findZone: async (name) => (name.endsWith('auth.acme-dns.test') ? 'auth.acme-dns.test' : 'example.net'),
    authoritativeServers: async (zone) => (zone === 'auth.acme-dns.test' ? [server('198.51.100.1'), server('198.51.100.2')] : [server('192.0.2.1')]),
    waitForPropagation: async (opts) => {
      waits.push(opts);
    },
  };
  const main = setup('[dns:main] rfc2136', ['example.net'], fakeProvider(records, calls), { nameservers: null, alsoCheck: [server('198.51.100.2'), server('10.0.0.53')] });
  const validation = setup('[dns:validation] exec', ['validation.example.org'], fakeProvider(records, calls));
  const solver = createDns01Solver({ setups: [main, validation], lookups });

  it('apex and wildcard: two values at one owner, one wait for both, both removed', async () => {
    waits.length = 0;
    await solver.present('example.net', 't1', 'ka1');
    await solver.present('*.example.net', 't2', 'ka2');
    assert.deepEqual(records.get('_acme-challenge.example.net'), [challengeValue('ka1'), challengeValue('ka2')]);
    await solver.settle([{ identifier: 'example.net', token: 't1', keyAuthorization: 'ka1' }, { identifier: '*.example.net', token: 't2', keyAuthorization: 'ka2' }]);
    assert.equal(waits.length, 1);
    assert.deepEqual(waits[0]!.records, [{ name: '_acme-challenge.example.net', value: challengeValue('ka1') }, { name: '_acme-challenge.example.net', value: challengeValue('ka2') }]);
    assert.deepEqual(waits[0]!.servers, [server('192.0.2.1'), server('198.51.100.2'), server('10.0.0.53')], 'authoritative servers plus the primary');
    assert.equal(waits[0]!.timeoutMs, 5000);
    await solver.cleanup('example.net', 't1', 'ka1');
    await solver.cleanup('*.example.net', 't2', 'ka2');
    assert.deepEqual(records.get('_acme-challenge.example.net'), []);
  });

  it('a CNAME into another setup\'s zone: that setup writes and checks the target', async () => {
    waits.length = 0;
    calls.length = 0;
    await solver.present('cn.example.net', 't3', 'ka3');
    assert.deepEqual(records.get('_acme-challenge.cn.validation.example.org'), [challengeValue('ka3')]);
    await solver.settle([{ identifier: 'cn.example.net', token: 't3', keyAuthorization: 'ka3' }]);
    assert.deepEqual(waits.map((w) => [w.records.map((r) => r.name), w.servers]), [[['_acme-challenge.cn.validation.example.org'], [server('192.0.2.1')]]]);
    await solver.cleanup('cn.example.net', 't3', 'ka3');
    assert.deepEqual(calls, [`present _acme-challenge.cn.validation.example.org ${challengeValue('ka3')}`, `cleanup _acme-challenge.cn.validation.example.org ${challengeValue('ka3')}`]);
  });

  it('a CNAME out of every setup (acme-dns): the name\'s setup writes, the target zone\'s servers are asked', async () => {
    waits.length = 0;
    await solver.present('out.example.net', 't4', 'ka4');
    await solver.settle([{ identifier: 'out.example.net', token: 't4', keyAuthorization: 'ka4' }]);
    assert.deepEqual(records.get('x1.auth.acme-dns.test'), [challengeValue('ka4')]);
    assert.deepEqual(waits[0]!.servers, [server('198.51.100.1'), server('198.51.100.2'), server('10.0.0.53')]);
    await solver.cleanup('out.example.net', 't4', 'ka4');
  });

  it('one authorization shared by two orders: added once, removed after the last cleanup', async () => {
    calls.length = 0;
    await solver.present('example.net', 'shared', 'kas');
    await solver.present('example.net', 'shared', 'kas');
    await solver.cleanup('example.net', 'shared', 'kas');
    assert.deepEqual(records.get('_acme-challenge.example.net'), [challengeValue('kas')], 'still there for the other order');
    await solver.cleanup('example.net', 'shared', 'kas');
    assert.deepEqual(records.get('_acme-challenge.example.net'), []);
    assert.equal(calls.length, 2);
  });

  it('a name under no setup fails at once', async () => {
    await assert.rejects(solver.present('www.example.com', 't', 'ka'), { name: 'Dns01Error', code: 'dns-01', message: 'dns-01 www.example.com: no [dns:*] zone holds this name' });
  });

  it('a provider failure keeps its code and names identifier and setup', async () => {
    const failing = setup('[dns:bad] rfc2136', ['bad.example'], fakeProvider(new Map(), [], new DnsProviderError('add TXT _acme-challenge.bad.example: dns update zone bad.example at 127.0.0.1:5353: NOTAUTH (…)', 'BADSIG')));
    await assert.rejects(createDns01Solver({ setups: [failing], lookups }).present('bad.example', 't', 'ka'), (e: unknown) => {
      assert.ok(e instanceof Dns01Error);
      assert.equal(e.code, 'BADSIG');
      assert.equal(e.message, 'dns-01 bad.example [dns:bad] rfc2136: add TXT _acme-challenge.bad.example: dns update zone bad.example at 127.0.0.1:5353: NOTAUTH (…)');
      return true;
    });
  });

  it('propagation that times out names each lagging server and record', async () => {
    const lagging = createDns01Solver({
      setups: [setup('[dns:main] rfc2136', ['example.net'], fakeProvider(new Map(), []))],
      lookups: { ...lookups, waitForPropagation: async () => { throw new PropagationError([{ server: '192.0.2.1:53', name: '_acme-challenge.example.net', value: 'v', reason: 'TIMEOUT' }], 5000); } },
    });
    await lagging.present('example.net', 't', 'ka');
    await assert.rejects(lagging.settle([{ identifier: 'example.net', token: 't', keyAuthorization: 'ka' }]), {
      name: 'Dns01Error',
      code: 'propagation',
      message: 'dns-01 [dns:main] rfc2136: not served everywhere after 5 s, so the CA was not asked: 192.0.2.1:53 lacks TXT _acme-challenge.example.net "v" (TIMEOUT)',
    });
  });

  it('no DNS server to ask is a clear error', async () => {
    const none = createDns01Solver({ setups: [setup('[dns:x] exec', ['example.net'], fakeProvider(new Map(), []), { lookup: null })] });
    await assert.rejects(none.present('example.net', 't', 'ka'), /dns-01 example\.net \[dns:x\] exec: following CNAMEs of _acme-challenge\.example\.net: no DNS server to ask; set nameservers in the section/);
  });
});

describe('dns-01 solver with rfc2136 against BIND', () => {
  const key: TsigKey = { name: 'certfleet-dns01.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  let primary: RunningBind;
  let lagging: RunningBind;
  const at = (b: RunningBind) => ({ host: '127.0.0.1', port: b.port });
  before(async () => {
    const zones = [
      { name: 'a.example.com', records: ['_acme-challenge.cn CNAME _acme-challenge.cn.b.example.org.', '_acme-challenge TXT "unrelated"'] },
      { name: 'b.example.org' },
    ];
    [primary, lagging] = await Promise.all([startBind({ tsig: key, zones }), startBind({ tsig: key, zones })]);
  });
  after(() => Promise.all([primary?.stop(), lagging?.stop()]));

  function solverWith(nameservers: DnsServer[], timeoutMs = 3000) {
    const provider = createRfc2136Provider({ server: at(primary), tsig: key });
    const base = { provider, lookup: at(primary), nameservers, alsoCheck: [at(primary)], propagationTimeoutMs: timeoutMs };
    return createDns01Solver({ setups: [{ label: '[dns:a] rfc2136', zones: ['a.example.com', 'b.example.org'], ...base }], intervalMs: 100 });
  }

  it('follows the CNAME into the other zone, waits, and cleans up', async () => {
    const solver = solverWith([at(primary)]);
    const proofs = [{ identifier: 'cn.a.example.com', token: 't1', keyAuthorization: 'k1' }, { identifier: '*.cn.a.example.com', token: 't2', keyAuthorization: 'k2' }];
    for (const p of proofs) await solver.present(p.identifier, p.token, p.keyAuthorization);
    assert.deepEqual(await served(at(primary), '_acme-challenge.cn.b.example.org'), [challengeValue('k1'), challengeValue('k2')].sort());
    await solver.settle(proofs);
    for (const p of proofs) await solver.cleanup(p.identifier, p.token, p.keyAuthorization);
    assert.deepEqual(await served(at(primary), '_acme-challenge.cn.b.example.org'), []);
    assert.deepEqual(await served(at(primary), '_acme-challenge.a.example.com'), ['unrelated']);
  });

  it('a server that never gets the record: the wait ends at the timeout naming it', async () => {
    const solver = solverWith([at(primary), at(lagging)], 1000);
    const proof = { identifier: 'a.example.com', token: 't', keyAuthorization: 'k' };
    await solver.present(proof.identifier, proof.token, proof.keyAuthorization);
    const started = Date.now();
    try {
      await assert.rejects(solver.settle([proof]), (e: unknown) => {
        assert.ok(e instanceof Dns01Error);
        assert.equal(e.code, 'propagation');
        assert.equal(e.message, `dns-01 [dns:a] rfc2136: not served everywhere after 1 s, so the CA was not asked: 127.0.0.1:${lagging.port} lacks TXT _acme-challenge.a.example.com "${challengeValue('k')}"`);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 3000, `${took} ms`);
    } finally {
      await solver.cleanup(proof.identifier, proof.token, proof.keyAuthorization);
    }
    assert.deepEqual(await served(at(primary), '_acme-challenge.a.example.com'), ['unrelated']);
  });
});
