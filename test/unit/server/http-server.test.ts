import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createForwardHandler } from '../../../src/server/forward.ts';
import { startHttpServers } from '../../../src/server/http-server.ts';
import { eventually, startLoopback } from './harness.ts';
import { exchange, parseResponse, request } from './raw-http.ts';

const P = '/.well-known/acme-challenge/';
const forward = createForwardHandler('http://central.example.net');

function open(port: number): Promise<Socket & { closedAt?: number }> {
  return new Promise((resolve, reject) => {
    const socket: Socket & { closedAt?: number } = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
    socket.on('close', () => {
      socket.closedAt = Date.now();
    });
    socket.resume();
  });
}

test('a 10 kB path gets 431 and the server keeps answering', async () => {
  const s = await startLoopback(forward);
  try {
    const res = await request('127.0.0.1', s.port, 'GET', P + 'a'.repeat(10_000));
    assert.equal(res.status, 431);
    assert.equal(res.headers.location, undefined);
    assert.equal((await request('127.0.0.1', s.port, 'GET', `${P}abc`)).status, 301);
  } finally {
    await s.servers.close();
  }
});

test('junk that is not HTTP gets 400 and a closed connection', async () => {
  const s = await startLoopback(forward);
  try {
    const junk = [
      { desc: 'TLS client hello', text: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' },
      { desc: 'bad method token', text: 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n' },
      { desc: 'space in target', text: `GET ${P}a b HTTP/1.1\r\nHost: x\r\n\r\n` },
      { desc: 'control character in target', text: `GET ${P}a\x01 HTTP/1.1\r\nHost: x\r\n\r\n` },
      { desc: 'no Host header', text: `GET ${P}abc HTTP/1.1\r\n\r\n` },
      { desc: 'header injection attempt', text: `GET ${P}abc HTTP/1.1\r\nHost: x\rLocation: evil\r\n\r\n` },
    ];
    for (const { desc, text } of junk) {
      const res = parseResponse(await exchange('127.0.0.1', s.port, text));
      assert.equal(res.status, 400, desc);
      assert.equal(res.headers.location, undefined, desc);
    }
    assert.equal((await request('127.0.0.1', s.port, 'GET', `${P}abc`)).status, 301);
  } finally {
    await s.servers.close();
  }
});

test('a silent connection and a slow-header connection are closed by timeouts; others are served', async () => {
  const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 400 };
  const s = await startLoopback(forward, { limits });
  try {
    const silent = await open(s.port);
    const slow = await open(s.port);
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // A header every 100 ms keeps the idle timer from firing; only the header timeout ends it.
    const drip = setInterval(() => slow.writable && slow.write('X-Drip: 1\r\n'), 100);
    const started = Date.now();
    try {
      assert.equal((await request('127.0.0.1', s.port, 'GET', `${P}abc`)).status, 301);
      await eventually(() => silent.closedAt !== undefined && slow.closedAt !== undefined, 'both closed', 3000);
    } finally {
      clearInterval(drip);
    }
    assert.ok(silent.closedAt! - started < 2000, `silent socket closed after ${silent.closedAt! - started} ms`);
    assert.ok(slow.closedAt! - started < 2000, `slow socket closed after ${slow.closedAt! - started} ms`);
  } finally {
    await s.servers.close();
  }
});

test('200 concurrent requests are all answered', async () => {
  const s = await startLoopback(forward);
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => request('127.0.0.1', s.port, i % 2 ? 'GET' : 'HEAD', `${P}t${i}`)),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([301]));
    assert.equal(results[7].headers.location, `http://central.example.net${P}t7`);
    await eventually(() => s.lines.length === 200, 'one log line per request');
  } finally {
    await s.servers.close();
  }
});

test('a throwing handler costs a 500, not the server', async () => {
  const s = await startLoopback(() => {
    throw new Error('boom');
  });
  try {
    assert.equal((await request('127.0.0.1', s.port, 'GET', '/')).status, 500);
    assert.equal((await request('127.0.0.1', s.port, 'GET', '/')).status, 500);
  } finally {
    await s.servers.close();
  }
});

test('close() ends idle, half-sent and keep-alive connections within a second', async () => {
  const s = await startLoopback(forward);
  const idle = await open(s.port);
  const half = await open(s.port);
  half.write('GET / HTTP/1.1\r\nHo');
  const kept = await open(s.port);
  kept.write(`GET ${P}abc HTTP/1.1\r\nHost: x\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await s.servers.close();
  await eventually(() => [idle, half, kept].every((c) => c.closedAt !== undefined), 'client sockets closed', 1000);
  assert.ok(Date.now() - started < 1000);
  await assert.rejects(request('127.0.0.1', s.port, 'GET', '/'), { code: 'ECONNREFUSED' });
});

test('a busy address fails with the address and code; an optional one is skipped', async () => {
  const s = await startLoopback(forward);
  try {
    await assert.rejects(
      startHttpServers({ addresses: [{ host: '127.0.0.1', port: s.port }], handler: forward, log: () => {} }),
      (err: Error) => err.message === `127.0.0.1:${s.port}: cannot listen: EADDRINUSE`,
    );
    const lines: string[] = [];
    // 192.0.2.1 (TEST-NET-1) is not configured here, so binding gives EADDRNOTAVAIL.
    const started = await startHttpServers({
      addresses: [{ host: '127.0.0.1', port: 0 }, { host: '192.0.2.1', port: 0, optional: true }],
      handler: forward,
      log: (l) => lines.push(l),
    });
    assert.equal(started.addresses.length, 1);
    assert.match(lines[0], /^skipping 192\.0\.2\.1:0: EADDRNOTAVAIL/);
    await started.close();
  } finally {
    await s.servers.close();
  }
});
