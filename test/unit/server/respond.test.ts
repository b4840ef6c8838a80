import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRespondCommand } from '../../../src/cli/commands/respond.ts';
import { runThumbprintCommand } from '../../../src/cli/commands/thumbprint.ts';
import { main } from '../../../src/cli/main.ts';
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
  let conf: string;
  let thumbprint: string;
  const io = () => {
    const out = capture();
    const err = capture();
    return { out, err, io: { stdout: out.stream, stderr: err.stream, cwd: dir, env: {}, now: () => new Date() } };
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certfleet-respond-'));
    keyPath = join(dir, 'account.key');
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    await writeFile(keyPath, pem);
    thumbprint = jwkThumbprint(pem);
    // lematt.conf alone: no domains, no actions.conf, no drop dir on this host.
    conf = join(dir, 'lematt.conf');
    await writeFile(conf, `[config]\naccountKey: ${keyPath}\nchallengeDropDir: ${join(dir, 'nowhere')}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('respond serves the account key authorization until stopped, from lematt.conf alone', async () => {
    const controller = new AbortController();
    const err = capture();
    const done = runRespondCommand({ config: conf, listen: ['127.0.0.1:0'] }, { stdout: capture().stream, stderr: err.stream, cwd: dir, signal: controller.signal });
    const port = Number((await err.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const res = await request('127.0.0.1', port, 'GET', P + TOKEN);
    assert.equal(res.body, `${TOKEN}.${thumbprint}`);
    controller.abort();
    assert.equal(await done, 0);
  });

  test('respond --thumbprint and --thumbprint-file need no conf at all', async () => {
    const file = join(dir, 'thumbprint.txt');
    await writeFile(file, `${thumbprint}\n`);
    for (const flags of [{ thumbprint }, { thumbprintFile: file }]) {
      const controller = new AbortController();
      const err = capture();
      const done = runRespondCommand({ config: join(dir, 'absent', 'lematt.conf'), ...flags, listen: ['127.0.0.1:0'] }, { stdout: capture().stream, stderr: err.stream, cwd: join(dir, 'absent'), signal: controller.signal });
      const port = Number((await err.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
      assert.equal((await request('127.0.0.1', port, 'GET', P + TOKEN)).body, `${TOKEN}.${thumbprint}`, JSON.stringify(flags));
      controller.abort();
      assert.equal(await done, 0);
    }
  });

  test('errors go through the CLI boundary: a missing account key is a config error (exit 2), bad flags usage errors (exit 2)', async () => {
    const missing = join(dir, 'none.key');
    const other = join(dir, 'other.conf');
    await writeFile(other, `[config]\naccountKey: ${missing}\nchallengeDropDir: x\n`);
    for (const cmd of ['respond', 'thumbprint']) {
      const a = io();
      assert.equal(await main([cmd, '--config', other, ...(cmd === 'respond' ? ['--listen', '127.0.0.1:0'] : [])], a.io), 2);
      assert.equal(a.err.text(), `${other}: error: accountKey ${missing}: does not exist; create one with: certfleet init --config ${other}\ncertfleet: 1 config error; nothing was done\n`, cmd);
      assert.equal(a.out.text(), '');
    }
    const cases = [
      { args: ['--listen', 'x'], line: /^certfleet: error: --listen "x": expected ADDR:PORT/ },
      { args: ['--thumbprint', 'short'], line: /^certfleet: error: --thumbprint: not an account thumbprint \(43 base64url characters/ },
      { args: ['--thumbprint', thumbprint, '--config', conf], line: /^certfleet: error: --thumbprint and --config cannot be used together\n$/ },
      { args: ['--thumbprint-file', join(dir, 'nope')], line: /^certfleet: error: --thumbprint-file \S+nope: cannot read: ENOENT\n$/ },
    ];
    for (const c of cases) {
      const r = io();
      assert.equal(await main(['respond', ...c.args], r.io), 2, c.args.join(' '));
      assert.match(r.err.text(), c.line);
    }
  });

  test('thumbprint reads lematt.conf only: no domains file needed; a broken lematt.conf is reported with file:line', async () => {
    const plain = io();
    assert.equal(await main(['thumbprint', '--config', conf], plain.io), 0, plain.err.text());
    assert.equal(plain.out.text(), `${thumbprint}\n`);
    const nginx = io();
    assert.equal(await runThumbprintCommand({ config: conf, nginx: true }, nginx.io), 0);
    assert.equal(
      nginx.out.text(),
      [
        'location ~ "^/\\.well-known/acme-challenge/([A-Za-z0-9_-]{1,256})$" {',
        '    default_type text/plain;',
        `    return 200 "$1.${thumbprint}";`,
        '}',
        '',
      ].join('\n'),
    );
    const broken = join(dir, 'broken.conf');
    await writeFile(broken, `[config]\naccountKey: ${keyPath}\nchallengeDropDir: x\nreauthorizeDays: soon\nkeyBitsRSA: 3\n`);
    const b = io();
    assert.equal(await main(['thumbprint', '--config', 'broken.conf'], b.io), 2);
    assert.equal(b.err.text(), [
      'broken.conf:4: error: reauthorizeDays: must be a number of days ≥ 0, got "soon"',
      'broken.conf:5: error: keyBitsRSA: must be a whole number of bits from 2048 to 4096, got "3"',
      'certfleet: 2 config errors; nothing was done',
      '',
    ].join('\n'));
  });
});

test('nginxSnippet refuses a thumbprint that would break out of the string', () => {
  assert.throws(() => nginxSnippet('abc"; return 200 "x'), /^Error: nginx snippet: thumbprint is not base64url$/);
});
