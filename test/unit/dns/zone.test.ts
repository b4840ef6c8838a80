import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsError, PropagationError } from '../../../src/dns/errors.ts';
import { challengeName, challengeValue, waitForPropagation } from '../../../src/dns/zone.ts';
import type { DnsServer } from '../../../src/dns/client.ts';

describe('challengeName', () => {
  const cases = [
    { desc: 'plain name', identifier: 'www.example.com', want: '_acme-challenge.www.example.com' },
    { desc: 'wildcard shares the base name', identifier: '*.example.com', want: '_acme-challenge.example.com' },
    { desc: 'upper case and trailing dot', identifier: 'WWW.Example.COM.', want: '_acme-challenge.www.example.com' },
    { desc: 'apex', identifier: 'example.com', want: '_acme-challenge.example.com' },
  ];
  for (const c of cases) it(c.desc, () => assert.equal(challengeName(c.identifier), c.want));
});

describe('challengeValue', () => {
  it('is base64url(SHA-256(keyAuthorization)) without padding', () => {
    // Computed independently: printf %s "$ka" | openssl dgst -sha256 -binary | basenc --base64url
    const ka = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI';
    assert.equal(challengeValue(ka), 'lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM');
  });
});

describe('waitForPropagation (fake servers and clock)', () => {
  const a: DnsServer = { host: '192.0.2.1', port: 53 };
  const b: DnsServer = { host: '192.0.2.2', port: 53 };
  const records = [
    { name: '_acme-challenge.example.com', value: 'apex' },
    { name: '_acme-challenge.example.com', value: 'wildcard' },
  ];

  /** A clock that only moves when the code under test sleeps. */
  function fakeTime() {
    let t = 0;
    const sleeps: number[] = [];
    return {
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      sleeps,
    };
  }

  it('resolves once every server serves every value', async () => {
    const time = fakeTime();
    const lookups: string[] = [];
    await waitForPropagation({
      records,
      servers: [a, b],
      timeoutMs: 10_000,
      intervalMs: 1000,
      ...time,
      // b catches up only after two seconds.
      lookupTxt: async (server, name) => {
        lookups.push(`${server.host} ${name}`);
        return server === b && time.now() < 2000 ? ['apex'] : ['apex', 'wildcard', 'unrelated'];
      },
    });
    assert.deepEqual(time.sleeps, [1000, 1000]);
    // One query per distinct name and server per round.
    assert.equal(lookups.length, 6);
  });

  it('times out naming each server and record that was missing, with lookup failures', async () => {
    const time = fakeTime();
    const failure = new DnsError({ subject: 'dns query', server: '192.0.2.2:53', code: 'TIMEOUT', detail: 'no answer' });
    const run = waitForPropagation({
      records,
      servers: [a, b],
      timeoutMs: 2500,
      intervalMs: 1000,
      ...time,
      lookupTxt: async (server) => {
        if (server === b) throw failure;
        return ['apex'];
      },
    });
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof PropagationError);
      assert.deepEqual(e.missing, [
        { server: '192.0.2.1:53', name: '_acme-challenge.example.com', value: 'wildcard' },
        { server: '192.0.2.2:53', name: '_acme-challenge.example.com', value: 'apex', reason: 'TIMEOUT: no answer' },
        { server: '192.0.2.2:53', name: '_acme-challenge.example.com', value: 'wildcard', reason: 'TIMEOUT: no answer' },
      ]);
      assert.match(e.message, /not served after 2500 ms: 192\.0\.2\.1:53 lacks TXT _acme-challenge\.example\.com "wildcard"/);
      return true;
    });
    // The last sleep is cut to the deadline, so the final check runs at 2500 ms.
    assert.deepEqual(time.sleeps, [1000, 1000, 500]);
  });
});
