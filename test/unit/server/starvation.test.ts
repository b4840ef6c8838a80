// Idle and slow-header connections must not starve the challenge servers (issue 11): at the cap
// the longest-waiting ones are closed for new ones, never one whose request is being answered.
// Speed is measured by bench/challenge-load.ts; these tests check who is closed and who is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRespondHandler } from '../../../src/server/respond.ts';
import { reply } from '../../../src/server/reply.ts';
import { eventually, startLoopback } from './harness.ts';
import { holdOpen, parseResponse, request, type HeldSocket } from './raw-http.ts';

const P = '/.well-known/acme-challenge/';
const SLOW_HEAD = `GET ${P}slow HTTP/1.1\r\nHost: x\r\nX-Slow: `;
const respond = createRespondHandler('THUMB');
/** Timeouts far beyond a test's length, so only the pool closes connections (however slow the machine). */
const FAR = { headersTimeoutMs: 20_000, requestTimeoutMs: 20_000, idleTimeoutMs: 20_000 };

async function answered(port: number, token: string): Promise<void> {
  const res = await request('127.0.0.1', port, 'GET', P + token);
  assert.deepEqual([res.status, res.body], [200, `${token}.THUMB`], token);
}

test('with 300 idle and slow-header sockets over a cap of 200, good requests are answered and the oldest holders go', async () => {
  const s = await startLoopback(respond, { limits: { ...FAR, maxConnections: 200 } });
  const held: HeldSocket[] = [];
  try {
    assert.equal(s.servers.connectionCap, 200);
    for (let i = 0; i < 300; i++) held.push(await holdOpen(s.port, i % 2 ? SLOW_HEAD : undefined));
    const closed = (): HeldSocket[] => held.filter((h) => h.closedAt !== undefined);
    await eventually(() => closed().length >= 100, '100 holders closed to stay at the cap');
    for (let i = 0; i < 20; i++) await answered(s.port, `seq${i}`);
    await Promise.all(Array.from({ length: 50 }, (_, i) => answered(s.port, `burst${i}`)));
    // Each good connection took the place of one holder, at most.
    assert.ok(closed().length <= 170, `${closed().length} holders closed`);
    // Oldest first: every closed holder was opened before every one still open.
    const lastClosed = Math.max(...held.map((h, i) => (h.closedAt !== undefined ? i : -1)));
    const firstOpen = held.findIndex((h) => h.closedAt === undefined);
    assert.ok(lastClosed < firstOpen, `closed up to #${lastClosed}, #${firstOpen} still open`);
    assert.match(s.lines.join('\n'), /^at 200 open connections: closed \d+ idle or slow one\(s\) to make room$/m);
  } finally {
    for (const h of held) h.destroy();
    await s.servers.close();
  }
});

/**
 * Sends a request and resolves with its answer once the server closes. Unlike `request` it does
 * not half-close first: Node's server aborts a request whose client has sent FIN.
 */
async function askHeld(port: number, token: string): Promise<{ status: number; body: string }> {
  const socket = await holdOpen(port);
  const data: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => data.push(chunk));
  socket.write(`GET ${P}${token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await new Promise((r) => socket.once('close', r));
  const { status, body } = parseResponse(Buffer.concat(data).toString('latin1'));
  return { status, body };
}

/** A respond handler that holds answers to the token `hold` until `release()`. */
function holdingHandler(): { handler: (req: IncomingMessage, res: ServerResponse) => void; holding: () => number; release: () => void } {
  const waiting: (() => void)[] = [];
  let released = false;
  return {
    handler: (req, res) => {
      if (req.url !== `${P}hold` || released) return respond(req, res);
      waiting.push(() => reply(req, res, 200, {}, 'held'));
    },
    holding: () => waiting.length,
    release: () => {
      released = true;
      for (const answer of waiting.splice(0)) answer();
    },
  };
}

test('a request being answered is never closed to make room; idle ones are', async () => {
  const h = holdingHandler();
  const s = await startLoopback(h.handler, { limits: { ...FAR, maxConnections: 2 } });
  try {
    const inFlight = askHeld(s.port, 'hold');
    await eventually(() => h.holding() === 1, 'request in the handler');
    const x = await holdOpen(s.port);
    const y = await holdOpen(s.port, SLOW_HEAD);
    await eventually(() => x.closedAt !== undefined, 'older idle socket closed for the slow one');
    await answered(s.port, 'meanwhile');
    await eventually(() => y.closedAt !== undefined, 'slow socket closed for the good request');
    h.release();
    assert.deepEqual(await inFlight.then((r) => [r.status, r.body]), [200, 'held']);
  } finally {
    await s.servers.close();
  }
});

test('a new connection is refused only while every open one has a request in progress', async () => {
  const h = holdingHandler();
  const s = await startLoopback(h.handler, { limits: { ...FAR, maxConnections: 2 } });
  try {
    const first = askHeld(s.port, 'hold');
    const second = askHeld(s.port, 'hold');
    await eventually(() => h.holding() === 2, 'both requests in the handler');
    const third = await holdOpen(s.port);
    await eventually(() => third.closedAt !== undefined, 'newcomer refused');
    assert.match(s.lines.join('\n'), /^at 2 open connections: refused 1 new one\(s\), all others busy$/m);
    h.release();
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.status), [200, 200]);
    await answered(s.port, 'after');
  } finally {
    await s.servers.close();
  }
});

test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
  // Every other timeout is far away, so only the keep-alive one can close it within 3 s.
  const s = await startLoopback(respond, { limits: { ...FAR, keepAliveTimeoutMs: 200 } });
  try {
    const socket = await holdOpen(s.port);
    const data: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => data.push(chunk));
    socket.write(`GET ${P}ka HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(() => Buffer.concat(data).includes('ka.THUMB'), 'answer');
    assert.equal(parseResponse(Buffer.concat(data).toString('latin1')).headers.connection, 'keep-alive');
    await eventually(() => socket.closedAt !== undefined, 'keep-alive connection closed', 3000);
  } finally {
    await s.servers.close();
  }
});
