/** The rfc2136 provider and update/TSIG error paths against a real BIND on loopback. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { query, sendUpdate } from '../../../src/dns/client.ts';
import { DnsError } from '../../../src/dns/errors.ts';
import { createRfc2136Provider } from '../../../src/dns/providers/rfc2136/provider.ts';
import type { TsigKey } from '../../../src/dns/tsig.ts';
import { RRType, txtValue } from '../../../src/dns/types.ts';
import { startBind, type RunningBind } from '../../support/bind.ts';

const ZONE = 'int.example.com';
const OWNER = `_acme-challenge.www.${ZONE}`;
const key: TsigKey = { name: 'certfleet-e2e', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

describe('rfc2136 against BIND', () => {
  let bind: RunningBind;
  let server: { host: string; port: number };
  let label: string;

  before(async () => {
    bind = await startBind({
      tsig: key,
      zones: [
        { name: ZONE, records: ['_acme-challenge.www TXT "unrelated-token"', '@ TXT "v=spf1 -all"', 'www A 127.0.0.1'] },
        { name: 'readonly.test', allowUpdate: false },
      ],
    });
    server = { host: '127.0.0.1', port: bind.port };
    label = `127.0.0.1:${bind.port}`;
  });
  after(() => bind?.stop());

  /** TXT values served at `name`, asked of BIND directly. */
  async function served(name: string): Promise<string[]> {
    const answer = await query(server, name, RRType.TXT, { timeoutMs: 1000, recursionDesired: false });
    return answer.answers.flatMap((rr) => txtValue(rr.data) ?? []).sort();
  }

  it('adds two values at one owner, removes one, leaves the other and unrelated TXT alone', async () => {
    const provider = createRfc2136Provider({ server, tsig: key });
    const apex = randomBytes(32).toString('base64url');
    const wildcard = randomBytes(32).toString('base64url');
    await provider.present(OWNER, apex);
    await provider.present(OWNER, wildcard);
    assert.deepEqual(await served(OWNER), [apex, wildcard, 'unrelated-token'].sort());
    // An independent reader agrees.
    const dig = await promisify(execFile)('dig', ['@127.0.0.1', '-p', String(bind.port), '+short', '+norec', 'TXT', OWNER], { timeout: 5000 });
    assert.deepEqual(dig.stdout.trim().split('\n').sort(), [`"${apex}"`, `"${wildcard}"`, '"unrelated-token"'].sort());

    await provider.cleanup(OWNER, apex);
    assert.deepEqual(await served(OWNER), [wildcard, 'unrelated-token'].sort());
    await provider.cleanup(OWNER, wildcard);
    assert.deepEqual(await served(OWNER), ['unrelated-token']);
    assert.deepEqual(await served(ZONE), ['v=spf1 -all']);
  });

  it('treats removing an absent value as done', async () => {
    await createRfc2136Provider({ server, tsig: key }).cleanup(OWNER, 'never-added');
    assert.deepEqual(await served(OWNER), ['unrelated-token']);
  });

  it('round-trips a value longer than one 255-octet character-string', async () => {
    const provider = createRfc2136Provider({ server, tsig: key });
    const long = 'L'.repeat(400);
    await provider.present(`long.${ZONE}`, long);
    assert.deepEqual(await served(`long.${ZONE}`), [long]);
    await provider.cleanup(`long.${ZONE}`, long);
    assert.deepEqual(await served(`long.${ZONE}`), []);
  });

  it('sends updates over UDP when asked', async () => {
    const data = { kind: 'TXT' as const, strings: ['over-udp'] };
    await sendUpdate(server, ZONE, [{ kind: 'add', name: `udp.${ZONE}`, ttl: 60, data }], key, { transport: 'udp' });
    assert.deepEqual(await served(`udp.${ZONE}`), ['over-udp']);
    await sendUpdate(server, ZONE, [{ kind: 'delete-rrset', name: `udp.${ZONE}`, type: RRType.TXT }], key, { transport: 'udp' });
    assert.deepEqual(await served(`udp.${ZONE}`), []);
  });

  const tsigFailures = [
    { desc: 'a wrong secret', tsig: { ...key, secret: randomBytes(32).toString('base64') }, tsigError: 'BADSIG', now: undefined },
    { desc: 'an unknown key name', tsig: { ...key, name: 'no-such-key' }, tsigError: 'BADKEY', now: undefined },
    { desc: 'a clock an hour slow', tsig: key, tsigError: 'BADTIME', now: () => Date.now() - 3_600_000 },
  ];
  for (const c of tsigFailures) {
    it(`rejects an update signed with ${c.desc}: NOTAUTH / ${c.tsigError} naming zone and server`, async () => {
      const run = sendUpdate(server, ZONE, [{ kind: 'add', name: OWNER, ttl: 60, data: { kind: 'TXT', strings: ['x'] } }], c.tsig, { now: c.now });
      await assert.rejects(run, (e: unknown) => {
        assert.ok(e instanceof DnsError, String(e));
        assert.equal(e.code, 'NOTAUTH');
        assert.equal(e.tsigError, c.tsigError);
        assert.ok(e.message.startsWith(`dns update zone ${ZONE} at ${label}: NOTAUTH`), e.message);
        assert.match(e.message, new RegExp(c.tsigError));
        assert.ok(!e.message.includes(c.tsig.secret) && !e.message.includes(key.secret));
        return true;
      });
    });
  }
  it('the provider surfaces BADSIG, keeping the DnsError as its cause', async () => {
    const provider = createRfc2136Provider({ server, tsig: { ...key, secret: randomBytes(32).toString('base64') } });
    await assert.rejects(provider.present(OWNER, 'x'), (e: unknown) => {
      assert.ok(e instanceof Error && e.name === 'DnsProviderError', String(e));
      assert.equal((e as { code?: string }).code, 'BADSIG');
      assert.ok(e.cause instanceof DnsError && e.cause.code === 'NOTAUTH' && e.cause.tsigError === 'BADSIG');
      return true;
    });
  });

  it('reports REFUSED for a zone without update rights', async () => {
    const provider = createRfc2136Provider({ server, tsig: key });
    await assert.rejects(provider.present('_acme-challenge.readonly.test', 'x'), {
      name: 'DnsProviderError',
      code: 'REFUSED',
      message: `add TXT _acme-challenge.readonly.test: dns update zone readonly.test at ${label}: REFUSED (the server does not let key "${key.name}" update this zone: check its allow-update or update-policy)`,
    });
  });

  it('reports NOTZONE when the configured zone does not hold the name', async () => {
    const provider = createRfc2136Provider({ server, tsig: key, zone: ZONE });
    await assert.rejects(provider.present('_acme-challenge.readonly.test', 'x'), {
      code: 'NOTZONE',
      message: `add TXT _acme-challenge.readonly.test: dns update zone ${ZONE} at ${label}: NOTZONE (the name is not inside the zone updated)`,
    });
  });

  it('fails with the name and server when no served zone holds the name', async () => {
    const provider = createRfc2136Provider({ server, tsig: key });
    await assert.rejects(provider.present('_acme-challenge.elsewhere.invalid', 'x'), (e: unknown) => {
      assert.match(String(e), new RegExp(`_acme-challenge\\.elsewhere\\.invalid: no SOA found at ${label}`));
      return true;
    });
  });

  it('verifies BIND-signed answers to signed queries, and rejects a wrong key', async () => {
    const answer = await query(server, ZONE, RRType.SOA, { timeoutMs: 1000, tsig: key });
    assert.equal(answer.answers[0].data.kind, 'SOA');
    await assert.rejects(
      query(server, ZONE, RRType.SOA, { timeoutMs: 1000, tsig: { ...key, secret: randomBytes(32).toString('base64') } }),
      { code: 'NOTAUTH', tsigError: 'BADSIG' },
    );
  });
});
