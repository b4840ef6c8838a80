import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListen, parseListen, parseListenList } from '../../../src/server/listen.ts';

const BOTH = (port: number) => [
  { host: '0.0.0.0', port },
  { host: '::', port, optional: true },
];

test('parseListen accepts IP literals, bracketed IPv6 and all-interface forms', () => {
  const cases = [
    { desc: 'IPv4', spec: '127.0.0.1:80', want: [{ host: '127.0.0.1', port: 80 }] },
    { desc: 'IPv6 loopback', spec: '[::1]:80', want: [{ host: '::1', port: 80 }] },
    { desc: 'IPv6 any, explicit', spec: '[::]:8080', want: [{ host: '::', port: 8080 }] },
    { desc: 'IPv4 any', spec: '0.0.0.0:80', want: [{ host: '0.0.0.0', port: 80 }] },
    { desc: 'port only', spec: '8080', want: BOTH(8080) },
    { desc: 'colon port', spec: ':80', want: BOTH(80) },
    { desc: 'star port', spec: '*:80', want: BOTH(80) },
    { desc: 'ephemeral', spec: '127.0.0.1:0', want: [{ host: '127.0.0.1', port: 0 }] },
    { desc: 'top port', spec: '[::1]:65535', want: [{ host: '::1', port: 65535 }] },
  ];
  for (const { desc, spec, want } of cases) assert.deepEqual(parseListen(spec), want, desc);
});

test('parseListen rejects anything else with a one-line reason', () => {
  const cases = [
    { desc: 'hostname', spec: 'localhost:80', error: /expected ADDR:PORT/ },
    { desc: 'no port', spec: '127.0.0.1', error: /expected ADDR:PORT/ },
    { desc: 'empty', spec: '', error: /expected ADDR:PORT/ },
    { desc: 'port too big', spec: '127.0.0.1:65536', error: /port 65536 is out of range/ },
    { desc: 'port too long', spec: '127.0.0.1:000080', error: /out of range/ },
    { desc: 'negative port', spec: '127.0.0.1:-1', error: /expected ADDR:PORT/ },
    { desc: 'unbracketed IPv6', spec: '::1:80', error: /IPv6 addresses need brackets/ },
    { desc: 'bracketed IPv4', spec: '[127.0.0.1]:80', error: /127.0.0.1 is not an IPv6 address/ },
    { desc: 'empty brackets', spec: '[]:80', error: /expected ADDR:PORT/ },
    { desc: 'bad IPv4', spec: '300.1.1.1:80', error: /expected ADDR:PORT/ },
    { desc: 'URL', spec: 'http://127.0.0.1:80', error: /expected ADDR:PORT/ },
  ];
  for (const { desc, spec, error } of cases) {
    assert.throws(() => parseListen(spec), (err: Error) => err.message.startsWith(`--listen ${JSON.stringify(spec)}: `) && error.test(err.message), desc);
  }
});

test('parseListenList defaults to dual-stack port 80 and drops duplicates', () => {
  assert.deepEqual(parseListenList(undefined), BOTH(80));
  assert.deepEqual(parseListenList([]), BOTH(80));
  assert.deepEqual(parseListenList(['127.0.0.1:80', '127.0.0.1:80']), [{ host: '127.0.0.1', port: 80 }]);
  // An explicit IPv6 any-address stays required even when `:80` also names it.
  assert.deepEqual(parseListenList(['[::]:80', ':80']), [{ host: '::', port: 80 }, { host: '0.0.0.0', port: 80 }]);
});

test('formatListen brackets IPv6', () => {
  assert.equal(formatListen({ host: '::1', port: 80 }), '[::1]:80');
  assert.equal(formatListen({ host: '10.0.0.1', port: 8080 }), '10.0.0.1:8080');
});
