import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createForwardHandler, parseForwardTarget } from '../../../src/server/forward.ts';
import { eventually, hasIpv6Loopback, startLoopback } from './harness.ts';
import { request } from './raw-http.ts';

const P = '/.well-known/acme-challenge/';
const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

test('parseForwardTarget normalises http(s) URLs and rejects the rest', () => {
  const good = [
    { to: 'http://central.example.net', want: 'http://central.example.net' },
    { to: 'http://central.example.net/', want: 'http://central.example.net' },
    { to: 'https://Central.Example.NET:8443//', want: 'https://central.example.net:8443' },
    { to: 'http://central/acme/', want: 'http://central/acme' },
    { to: 'http://[2001:db8::1]:8080', want: 'http://[2001:db8::1]:8080' },
  ];
  for (const { to, want } of good) assert.equal(parseForwardTarget(to), want, to);
  const bad = [
    { to: 'central.example.net', why: /not a URL/ },
    { to: 'httpfoo://x', why: /must start with http/ },
    { to: 'ftp://x', why: /must start with http/ },
    { to: 'http://u:p@x', why: /credentials/ },
    { to: 'http://x/?a=1', why: /query or fragment/ },
    { to: 'http://x/#f', why: /query or fragment/ },
    { to: 'http://x/?', why: /query or fragment/ },
    { to: '', why: /not a URL/ },
  ];
  for (const { to, why } of bad) {
    assert.throws(() => parseForwardTarget(to), (e: Error) => e.message.startsWith(`--to ${JSON.stringify(to)}: `) && why.test(e.message), to);
  }
});

describe('forward server', async () => {
  const ipv6 = await hasIpv6Loopback();
  let s: Awaited<ReturnType<typeof startLoopback>>;
  before(async () => {
    s = await startLoopback(createForwardHandler('http://central.example.net'), { ipv6 });
  });
  after(() => s.servers.close());

  test('GET and HEAD of a challenge redirect with 301, query kept', async () => {
    const get = await request('127.0.0.1', s.port, 'GET', `${P}${TOKEN}?x=1`);
    assert.equal(get.status, 301);
    assert.equal(get.headers.location, `http://central.example.net${P}${TOKEN}?x=1`);
    assert.equal(get.body, '');
    const head = await request('127.0.0.1', s.port, 'HEAD', P + TOKEN);
    assert.equal(head.status, 301);
    assert.equal(head.headers.location, `http://central.example.net${P}${TOKEN}`);
  });

  // Outside CI a machine without ::1 may skip this; in CI (CI=true) it runs and fails there.
  test('IPv6 listener redirects too', { skip: !ipv6 && !process.env.CI && 'no IPv6 loopback' }, async () => {
    const res = await request('::1', s.port6, 'GET', P + TOKEN);
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, `http://central.example.net${P}${TOKEN}`);
  });

  test('other methods get 405 with Allow, other paths 404, never a Location', async () => {
    const cases = [
      { desc: 'POST challenge', method: 'POST', target: P + TOKEN, status: 405, body: 'Content-Length: 5\r\n\r\nhello' },
      { desc: 'PUT challenge', method: 'PUT', target: P + TOKEN, status: 405 },
      { desc: 'DELETE challenge', method: 'DELETE', target: P + TOKEN, status: 405 },
      { desc: 'OPTIONS challenge', method: 'OPTIONS', target: P + TOKEN, status: 405 },
      { desc: 'root', method: 'GET', target: '/', status: 404 },
      { desc: 'POST elsewhere', method: 'POST', target: '/index.php', status: 404 },
      { desc: 'prefix only', method: 'GET', target: P, status: 404 },
      { desc: 'leforward prefix match', method: 'GET', target: '/.well-known/acme-challengeXYZ', status: 404 },
      { desc: 'traversal', method: 'GET', target: `${P}../../etc/passwd`, status: 404 },
      { desc: 'encoded traversal', method: 'GET', target: `${P}%2e%2e/%2e%2e/etc/passwd`, status: 404 },
      { desc: 'encoded dots only', method: 'GET', target: `${P}%2e%2e`, status: 404 },
      { desc: 'token with slash', method: 'GET', target: `${P}${TOKEN}/x`, status: 404 },
      { desc: 'absolute form', method: 'GET', target: `http://evil.example${P}${TOKEN}`, status: 404 },
      { desc: 'asterisk', method: 'OPTIONS', target: '*', status: 404 },
    ];
    for (const c of cases) {
      const res = await request('127.0.0.1', s.port, c.method, c.target, c.body ?? '');
      assert.equal(res.status, c.status, c.desc);
      assert.equal(res.headers.location, undefined, c.desc);
      if (c.status === 405) assert.equal(res.headers.allow, 'GET, HEAD', c.desc);
    }
  });

  test('one log line per request, with peer, request and status', async () => {
    const before = s.lines.length;
    await request('127.0.0.1', s.port, 'GET', `${P}${TOKEN}`);
    await request('127.0.0.1', s.port, 'GET', '/\x7f'.replace('\x7f', '%7F'));
    await eventually(() => s.lines.length >= before + 2, 'log lines');
    const [redirect, missing] = s.lines.slice(before);
    assert.match(redirect, new RegExp(`^\\S+Z 127\\.0\\.0\\.1 "GET ${P}${TOKEN}" 301 -> http://central\\.example\\.net${P}${TOKEN}$`));
    assert.match(missing, /^\S+Z 127\.0\.0\.1 "GET \/%7F" 404$/);
    assert.equal(s.lines.length, before + 2);
  });
});
