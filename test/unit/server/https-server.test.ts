/**
 * The hardened server over TLS: the same handler and limits, a handshake bounded like headers,
 * and the connection pool still telling busy connections from idle ones (it admits the TCP
 * socket, requests arrive on the TLS socket around it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startHttpServers, type RequestHandler, type ServerLimits } from '../../../src/server/http-server.ts';
import { makeTlsFiles, type TlsFiles } from '../../support/tls.ts';
import { eventually } from './harness.ts';

let dir: string;
let files: TlsFiles;
let tls: { cert: Buffer; key: Buffer };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certfleet-https-'));
  files = await makeTlsFiles(dir);
  tls = { cert: await readFile(files.certPath), key: await readFile(files.keyPath) };
});
after(() => rm(dir, { recursive: true, force: true }));

async function start(handler: RequestHandler, limits: Partial<ServerLimits> = {}) {
  const lines: string[] = [];
  const servers = await startHttpServers({ addresses: [{ host: '127.0.0.1', port: 0 }], handler, log: (l) => lines.push(l), limits, tls });
  return { servers, port: servers.addresses[0].port, lines };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: files.caPem, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function open(port: number): Promise<Socket & { closedAt?: number }> {
  return new Promise((resolve, reject) => {
    const socket: Socket & { closedAt?: number } = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
    socket.on('close', () => (socket.closedAt = Date.now()));
    socket.resume();
  });
}

test('HTTPS answers with the handler, and each request is logged', async () => {
  const s = await start((req, res) => res.end(`hello ${req.url}`));
  try {
    assert.deepEqual(await get(s.port, '/x'), { status: 200, body: 'hello /x' });
    await eventually(() => s.lines.some((l) => l.includes('"GET /x" 200')), 'request line');
  } finally {
    await s.servers.close();
  }
});

test('a connection that never starts a TLS handshake is closed by the headers timeout; plain HTTP is refused', async () => {
  const s = await start((_req, res) => res.end('ok'), { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 5_000 });
  try {
    const silent = await open(s.port);
    const started = Date.now();
    const plain = await open(s.port);
    plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => silent.closedAt !== undefined && plain.closedAt !== undefined, 'both closed', 3000);
    assert.ok(silent.closedAt! - started < 2000, `silent socket closed after ${silent.closedAt! - started} ms`);
    assert.equal((await get(s.port, '/')).status, 200);
    assert.ok(s.lines.some((l) => /"-" - \(TLS /.test(l)), s.lines.join('\n'));
  } finally {
    await s.servers.close();
  }
});

test('at the connection cap, a TLS request in progress is not shed; idle connections are', async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const s = await start((req, res) => {
    if (req.url === '/slow') void held.then(() => res.end('done'));
    else res.end('ok');
  }, { maxConnections: 2 });
  try {
    const slow = get(s.port, '/slow');
    await new Promise((r) => setTimeout(r, 200));
    const idle = [await open(s.port), await open(s.port), await open(s.port)];
    await eventually(() => idle[0].closedAt !== undefined && idle[1].closedAt !== undefined, 'older idle ones shed');
    release();
    assert.deepEqual(await slow, { status: 200, body: 'done' });
    for (const c of idle) c.destroy();
  } finally {
    await s.servers.close();
  }
});

test('close() also ends a connection in the middle of its TLS handshake', async () => {
  const s = await start((_req, res) => res.end('ok'), { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
  const silent = await open(s.port);
  const started = Date.now();
  await s.servers.close();
  await eventually(() => silent.closedAt !== undefined, 'closed', 1000);
  assert.ok(Date.now() - started < 1000);
});
