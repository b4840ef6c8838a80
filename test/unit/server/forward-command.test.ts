import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { runForwardCommand } from '../../../src/cli/commands/forward.ts';
import { main } from '../../../src/cli/main.ts';
import { STOP_SIGNALS } from '../../../src/server/serve.ts';
import { capture } from './harness.ts';
import { request } from './raw-http.ts';

const P = '/.well-known/acme-challenge/';

async function runQuick(opts: { to: string; listen?: string[] }): Promise<{ code: number; stderr: string; stdout: string }> {
  const out = capture();
  const err = capture();
  const code = await runForwardCommand(opts, { stdout: out.stream, stderr: err.stream, signal: AbortSignal.timeout(2000) });
  return { code, stderr: err.text(), stdout: out.text() };
}

test('usage errors go through the CLI boundary: exit 2 with one line and no stack', async () => {
  const cases = [
    { desc: 'bad --to', args: ['--to', 'central.example.net'], line: 'certfleet: error: --to "central.example.net": not a URL; expected e.g. http://central.example.net\n' },
    { desc: 'non-http --to', args: ['--to', 'ftp://x'], line: 'certfleet: error: --to "ftp://x": must start with http:// or https://\n' },
    { desc: 'bad --listen', args: ['--to', 'http://x', '--listen', 'localhost:80'], line: 'certfleet: error: --listen "localhost:80": expected ADDR:PORT, [IPV6]:PORT, :PORT or PORT with ADDR an IP address\n' },
  ];
  for (const { desc, args, line } of cases) {
    const out = capture();
    const err = capture();
    const code = await main(['forward', ...args], { stdout: out.stream, stderr: err.stream, cwd: process.cwd(), env: {}, now: () => new Date() });
    assert.deepEqual([code, err.text(), out.text()], [2, line, ''], desc);
    await assert.rejects(runQuick({ to: args[1]!, listen: args[3] ? [args[3]] : undefined }), { name: 'UsageError' }, `${desc}: the command throws, it does not print`);
  }
});

test('an address in use exits 1 naming the address', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runQuick({ to: 'http://x', listen: [`127.0.0.1:${port}`] });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`certfleet forward: 127\\.0\\.0\\.1:${port}: cannot listen: EADDRINUSE \\(another process`));
  } finally {
    blocker.close();
  }
});

for (const signal of STOP_SIGNALS) {
  test(`${signal} stops the server cleanly within a second`, async () => {
    const listenersBefore = process.listenerCount(signal);
    const err = capture();
    const done = runForwardCommand({ to: 'https://central.example.net/', listen: ['127.0.0.1:0'] }, { stdout: capture().stream, stderr: err.stream });
    const port = Number((await err.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const res = await request('127.0.0.1', port, 'GET', `${P}tok`);
    assert.equal(res.headers.location, `https://central.example.net${P}tok`);
    await err.waitFor(/"GET \/\.well-known\/acme-challenge\/tok" 301/);
    // Stands in for the real signal: the listeners are what a kill or pty hangup reaches.
    const started = Date.now();
    process.emit(signal, signal);
    assert.equal(await done, 0);
    assert.ok(Date.now() - started < 1000);
    assert.match(err.text(), new RegExp(`stopped \\(${signal}\\)\\n$`));
    assert.equal(process.listenerCount(signal), listenersBefore);
    await assert.rejects(request('127.0.0.1', port, 'GET', `${P}tok`), { code: 'ECONNREFUSED' });
  });
}

test('aborting io.signal stops it and logs one line per request', async () => {
  const controller = new AbortController();
  const err = capture();
  const done = runForwardCommand({ to: 'http://central', listen: ['127.0.0.1:0'] }, { stdout: capture().stream, stderr: err.stream, signal: controller.signal });
  const port = Number((await err.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
  await request('127.0.0.1', port, 'GET', '/');
  await request('127.0.0.1', port, 'POST', `${P}abc`);
  await err.waitFor(/" 405\n/);
  controller.abort();
  assert.equal(await done, 0);
  const requestLines = err.text().split('\n').filter((l) => / "(GET|POST) /.test(l));
  assert.equal(requestLines.length, 2);
  assert.match(requestLines[0], /^certfleet forward: \S+ 127\.0\.0\.1 "GET \/" 404$/);
});
