import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRespondCommand } from '../../../src/cli/commands/respond.ts';
import { runThumbprintCommand } from '../../../src/cli/commands/thumbprint.ts';
import { jwkThumbprint } from '../../../src/crypto/thumbprint.ts';
import { nginxSnippet } from '../../../src/server/nginx-snippet.ts';
import { createRespondHandler } from '../../../src/server/respond.ts';
import { capture, startLoopback } from './harness.ts';
import { request } from './raw-http.ts';

const P = '/.well-known/acme-challenge/';
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

describe('respond handler', () => {
  let s: Awaited<ReturnType<typeof startLoopback>>;
  before(async () => {
    s = await startLoopback(createRespondHandler('THUMB'));
  });
  after(() => s.servers.close());

  test('answers any valid token with <token>.<thumbprint>', async () => {
    for (const token of [TOKEN, 'a', '-_-']) {
      const res = await request('127.0.0.1', s.port, 'GET', P + token);
      assert.equal(res.status, 200, token);
      assert.equal(res.body, `${token}.THUMB`, token);
      assert.equal(res.headers['content-length'], String(token.length + 6), token);
    }
    const head = await request('127.0.0.1', s.port, 'HEAD', P + TOKEN);
    assert.deepEqual([head.status, head.body], [200, '']);
  });

  test('answers nothing outside the challenge path', async () => {
    const cases = [
      { method: 'GET', target: `${P}../THUMB`, status: 404 },
      { method: 'GET', target: `${P}%2e%2e`, status: 404 },
      { method: 'GET', target: '/', status: 404 },
      { method: 'POST', target: P + TOKEN, status: 405 },
    ];
    for (const c of cases) {
      const res = await request('127.0.0.1', s.port, c.method, c.target);
      assert.deepEqual([res.status, res.body], [c.status, ''], `${c.method} ${c.target}`);
    }
  });
});

describe('respond and thumbprint commands', () => {
  let dir: string;
  let keyPath: string;
  let thumbprint: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certfleet-respond-'));
    keyPath = join(dir, 'account.key');
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    await writeFile(keyPath, pem);
    thumbprint = jwkThumbprint(pem);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('respond serves the account key authorization until stopped', async () => {
    const controller = new AbortController();
    const err = capture();
    const done = runRespondCommand({ accountKeyPath: keyPath, listen: ['127.0.0.1:0'] }, { stdout: capture().stream, stderr: err.stream, signal: controller.signal });
    const port = Number((await err.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const res = await request('127.0.0.1', port, 'GET', P + TOKEN);
    assert.equal(res.body, `${TOKEN}.${thumbprint}`);
    controller.abort();
    assert.equal(await done, 0);
  });

  test('respond and thumbprint exit 1 for an unreadable key, respond 2 for a bad --listen', async () => {
    const missing = join(dir, 'none.key');
    const io = () => ({ out: capture(), err: capture() });
    const a = io();
    assert.equal(await runRespondCommand({ accountKeyPath: missing, listen: ['127.0.0.1:0'] }, { stdout: a.out.stream, stderr: a.err.stream }), 1);
    assert.equal(a.err.text(), `certfleet respond: account key ${missing}: cannot read: ENOENT\n`);
    const b = io();
    assert.equal(await runThumbprintCommand({ accountKeyPath: missing }, { stdout: b.out.stream, stderr: b.err.stream }), 1);
    assert.equal(b.err.text(), `certfleet thumbprint: account key ${missing}: cannot read: ENOENT\n`);
    const c = io();
    assert.equal(await runRespondCommand({ accountKeyPath: keyPath, listen: ['x'] }, { stdout: c.out.stream, stderr: c.err.stream }), 2);
    assert.match(c.err.text(), /^certfleet respond: --listen "x": expected ADDR:PORT/);
  });

  test('thumbprint prints the thumbprint, or an nginx block with --nginx', async () => {
    const plain = capture();
    assert.equal(await runThumbprintCommand({ accountKeyPath: keyPath }, { stdout: plain.stream, stderr: capture().stream }), 0);
    assert.equal(plain.text(), `${thumbprint}\n`);
    const nginx = capture();
    assert.equal(await runThumbprintCommand({ accountKeyPath: keyPath, nginx: true }, { stdout: nginx.stream, stderr: capture().stream }), 0);
    assert.equal(
      nginx.text(),
      [
        'location ~ "^/\\.well-known/acme-challenge/([A-Za-z0-9_-]{1,256})$" {',
        '    default_type text/plain;',
        `    return 200 "$1.${thumbprint}";`,
        '}',
        '',
      ].join('\n'),
    );
  });
});

test('nginxSnippet refuses a thumbprint that would break out of the string', () => {
  assert.throws(() => nginxSnippet('abc"; return 200 "x'), /^Error: nginx snippet: thumbprint is not base64url$/);
});
