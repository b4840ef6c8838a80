/** The rfc2136 provider against a real BIND: the provider contract and clear TSIG failures. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DnsError } from '../../../../src/dns/errors.ts';
import { DnsProviderError } from '../../../../src/dns/providers/provider.ts';
import { createRfc2136Provider } from '../../../../src/dns/providers/rfc2136/provider.ts';
import type { TsigKey } from '../../../../src/dns/tsig.ts';
import { startBind, type RunningBind } from '../../../support/bind.ts';
import { providerContract, served } from './contract.ts';
import { query } from '../../../../src/dns/client.ts';
import { RRType } from '../../../../src/dns/types.ts';

/** The A and AAAA addresses `name` has at the server. */
async function queryAddresses(server: { host: string; port: number }, name: string): Promise<{ a: string[]; aaaa: string[] }> {
  const get = async (type: number) => {
    const answer = await query(server, name, type, { timeoutMs: 2000 });
    return answer.answers.flatMap((r) => (r.data.kind === 'A' || r.data.kind === 'AAAA' ? [r.data.address] : [])).sort();
  };
  return { a: await get(RRType.A), aaaa: await get(RRType.AAAA) };
}

const ZONE = 'rfc2136.example.com';
const OWNER = `_acme-challenge.${ZONE}`;
const key: TsigKey = { name: 'certfleet-unit.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

describe('rfc2136 provider against BIND', () => {
  let bind: RunningBind;
  const server = () => ({ host: '127.0.0.1', port: bind.port });
  before(async () => {
    bind = await startBind({
      tsig: key,
      zones: [{ name: ZONE, records: ['_acme-challenge TXT "unrelated-token"'] }, { name: 'readonly.example.com', allowUpdate: false }, { name: 'second.example.com' }],
    });
  });
  after(() => bind?.stop());

  providerContract({ provider: () => createRfc2136Provider({ server: server(), tsig: key }), server, owner: OWNER, unrelated: ['unrelated-token'] });

  const failures = [
    { desc: 'a wrong secret', tsig: { ...key, secret: randomBytes(32).toString('base64') }, code: 'BADSIG', hint: /rejected the signature of key "certfleet-unit\.": check tsigSecret/ },
    { desc: 'an unknown key', tsig: { ...key, name: 'nobody.' }, code: 'BADKEY', hint: /has no key "nobody\." with algorithm hmac-sha256: check tsigKey and tsigAlgorithm/ },
    { desc: 'a clock an hour slow', tsig: key, code: 'BADTIME', now: () => Date.now() - 3_600_000, hint: /clock .* differ by more than 5 minutes/ },
  ];
  for (const c of failures) {
    it(`${c.desc}: ${c.code}, naming record, zone and server, never the secret`, async () => {
      const provider = createRfc2136Provider({ server: server(), tsig: c.tsig, now: c.now });
      await assert.rejects(provider.present(OWNER, 'v'), (e: unknown) => {
        assert.ok(e instanceof DnsProviderError, String(e));
        assert.equal(e.code, c.code);
        assert.ok(e.cause instanceof DnsError);
        assert.ok(e.message.startsWith(`add TXT ${OWNER}: dns update zone ${ZONE} at 127.0.0.1:${bind.port}: NOTAUTH`), e.message);
        assert.match(e.message, c.hint);
        assert.ok(!e.message.includes(key.secret) && !e.message.includes(c.tsig.secret), 'no secret in the message');
        return true;
      });
      assert.deepEqual(await served(server(), OWNER), ['unrelated-token'], 'nothing added');
    });
  }

  it('presentMany: hundreds of records of two zones in one message per zone and 400 records; cleanupMany removes exactly them', async () => {
    const provider = createRfc2136Provider({ server: server(), tsig: key });
    const records = [
      ...Array.from({ length: 450 }, (_, i) => ({ fqdn: `_acme-challenge.d${i}.${ZONE}`, value: randomBytes(32).toString('base64url') })),
      { fqdn: OWNER, value: randomBytes(32).toString('base64url') },
      { fqdn: `_acme-challenge.second.example.com`, value: randomBytes(32).toString('base64url') },
    ];
    const approved = () => bind.log().split('\n').filter((l) => /signer ".*" approved/.test(l)).length;
    const before = approved();
    await provider.presentMany!(records);
    assert.equal(approved() - before, 3, `two messages for ${ZONE} (400 + 51), one for second.example.com:\n${bind.log().slice(-2000)}`);
    for (const r of [records[0], records[449], records[451]]) assert.deepEqual(await served(server(), r.fqdn), [r.value]);
    assert.deepEqual(await served(server(), OWNER), [records[450].value, 'unrelated-token'].sort());
    await provider.cleanupMany!(records);
    assert.equal(approved() - before, 6);
    for (const r of [records[0], records[449], records[451]]) assert.deepEqual(await served(server(), r.fqdn), []);
    assert.deepEqual(await served(server(), OWNER), ['unrelated-token']);
  });

  it('setAddresses replaces the A and AAAA records of a name in one message, leaving its other records', async () => {
    const provider = createRfc2136Provider({ server: server(), tsig: key });
    const name = `dev.${ZONE}`;
    const approved = () => bind.log().split('\n').filter((l) => /signer ".*" approved/.test(l)).length;
    await provider.present(name, 'txt-beside');
    const before = approved();
    await provider.setAddresses!(name, ['10.1.1.4', 'fd00::4'], 300);
    assert.equal(approved() - before, 1, 'one UPDATE');
    assert.deepEqual(await queryAddresses(server(), name), { a: ['10.1.1.4'], aaaa: ['fd00::4'] });
    await provider.setAddresses!(name, ['192.168.7.9'], 300);
    assert.deepEqual(await queryAddresses(server(), name), { a: ['192.168.7.9'], aaaa: [] }, 'the old addresses are gone');
    assert.deepEqual(await served(server(), name), ['txt-beside'], 'other record types stay');
  });

  it('REFUSED names zone and server and says to check the update policy', async () => {
    const provider = createRfc2136Provider({ server: server(), tsig: key });
    await assert.rejects(provider.present('_acme-challenge.readonly.example.com', 'v'), {
      name: 'DnsProviderError',
      code: 'REFUSED',
      message: `add TXT _acme-challenge.readonly.example.com: dns update zone readonly.example.com at 127.0.0.1:${bind.port}: REFUSED (the server does not let key "certfleet-unit." update this zone: check its allow-update or update-policy)`,
    });
  });

  it('a server that does not answer: TIMEOUT, bounded', async () => {
    const provider = createRfc2136Provider({ server: { host: '127.0.0.1', port: 9 }, tsig: key, zone: ZONE, timeoutMs: 500 });
    const started = Date.now();
    await assert.rejects(provider.cleanup(OWNER, 'v'), (e: unknown) => {
      assert.ok(e instanceof DnsProviderError);
      assert.ok(['NETWORK', 'TIMEOUT'].includes(e.code), e.code);
      assert.match(e.message, /at 127\.0\.0\.1:9: .*check that server is right and reachable/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });
});
