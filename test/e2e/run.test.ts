// End to end: the built bin/certfleet against Pebble (5% nonce rejection on), with
// pebble-challtestsrv as Pebble's DNS and nginx serving the drop dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCertChain, verifyChain } from '../../src/crypto/cert.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();

const rand = () => randomBytes(4).toString('hex');
const run = (args: string[], extraEnv: Record<string, string> = {}) => runCertfleet(args, { env: { ...fx.env, ...extraEnv }, timeoutMs: 120_000 });

/** Lists every file under `dir` (relative), with a trailing `@` on symlinks. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    const rel = path.relative(dir, path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
    if (entry.isSymbolicLink()) out.push(`${rel}@`);
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Asserts the key and certificate at lematt's paths belong together and cover `names`. */
async function assertPair(keyFile: string, certFile: string, names: string[]): Promise<void> {
  const key = parsePrivateKey(await fs.readFile(keyFile, 'utf8'));
  const cert = parseCertChain(await fs.readFile(certFile, 'utf8'));
  assert.equal(cert.spkiSha256, spkiSha256(key), `${certFile} belongs to ${keyFile}`);
  assert.deepEqual([...cert.names].sort(), [...names].sort());
}

test('first issuance of several lines, RSA and EC, then a quiet second run', async () => {
  const z = rand();
  const domains = `a${z}.example.com www mail\nsingle${z}.example.org\nb${z}.example.net www.b${z}.example.org api\n`;
  const conf = await makeConfDir(fx.servers, { domains });
  const dir = path.dirname(conf);

  const first = await run(['--test', '--config', conf, '--parallel', '4', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout);
  assert.deepEqual(summary.counts, { issued: 6, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });

  const base1 = `a${z}.example.com_mail.a${z}.example.com_www.a${z}.example.com`;
  const files = await tree(path.join(dir, 'test'));
  for (const f of [
    `key/${base1}-key.rsa2048.test.pem`,
    `key/${base1}-key.prime256v1.test.pem`,
    `csr/${base1}-csr.rsa2048.test.csr`,
    `cert/${base1}-cert-combined.prime256v1.test.pem`,
    `cert/www.a${z}.example.com-cert-combined.rsa2048.test.pem@`,
    `key/a${z}.example.com-key.prime256v1.test.pem@`,
    `cert/single${z}.example.org-cert-combined.rsa2048.test.pem`,
    `cert/b${z}.example.net_api.b${z}.example.net_www.b${z}.example.org-cert-combined.prime256v1.test.pem`,
  ]) {
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  }
  assert.ok(!files.some((f) => f.startsWith('key/single') && f.endsWith('@')), 'no links for single-name lines');
  assert.ok(!(await tree(path.join(dir, 'prod'))).length, '--test writes nothing under prod/');

  const root = await fx.servers.rootPem();
  for (const kt of ['rsa2048', 'prime256v1']) {
    const certFile = path.join(dir, 'test/cert', `${base1}-cert-combined.${kt}.test.pem`);
    const keyFile = path.join(dir, 'test/key', `${base1}-key.${kt}.test.pem`);
    await assertPair(keyFile, certFile, [`a${z}.example.com`, `www.a${z}.example.com`, `mail.a${z}.example.com`]);
    assert.equal(verifyChain(await fs.readFile(certFile, 'utf8'), root), null, 'chain verifies to Pebble root');
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600, 'key mode');
    assert.equal((await fs.stat(certFile)).mode & 0o777, 0o644, 'cert mode');
    // The per-name link resolves to the same certificate.
    assert.equal(await fs.readFile(path.join(dir, 'test/cert', `mail.a${z}.example.com-cert-combined.${kt}.test.pem`), 'utf8'), await fs.readFile(certFile, 'utf8'));
  }
  const rsaKey = parsePrivateKey(await fs.readFile(path.join(dir, 'test/key', `${base1}-key.rsa2048.test.pem`), 'utf8'));
  assert.equal(rsaKey.asymmetricKeyDetails?.modulusLength, 2048);

  // Second run: nothing due. A dead directory URL proves no network call is made.
  const before = await fs.stat(path.join(dir, 'test/cert', `${base1}-cert-combined.rsa2048.test.pem`));
  const second = await run(['--test', '--config', conf, '--cron', '--directory', 'https://127.0.0.1:9/dir']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout + second.stderr, '', '--cron prints nothing when nothing changed');
  const afterStat = await fs.stat(path.join(dir, 'test/cert', `${base1}-cert-combined.rsa2048.test.pem`));
  assert.equal(afterStat.mtimeMs, before.mtimeMs, 'nothing rewritten');
  assert.deepEqual(await tree(path.join(dir, 'test')), files, 'no file added or removed');

  // --prod keeps its own tree, without the .test marker.
  const prod = await run(['--prod', '--config', conf, '--parallel', '4']);
  assert.equal(prod.code, 0, prod.stderr);
  assert.ok((await tree(path.join(dir, 'prod'))).includes(`cert/single${z}.example.org-cert-combined.rsa2048.pem`));
  assert.deepEqual(await tree(path.join(dir, 'test')), files, 'prod run leaves test/ alone');
});

test('one line failing validation does not stop the others; exit 1; nothing left behind', async () => {
  const z = rand();
  const bad = `bad${z}.example.com`;
  await fx.servers.setA(bad, ['127.0.0.9']); // nothing listens there: the CA's request fails
  const conf = await makeConfDir(fx.servers, { domains: `ok${z}.example.com\n${bad}\nok2${z}.example.com\n` });
  const dir = path.dirname(conf);
  // lematt's account keys are RSA (openssl genrsa): this run signs with one.
  await fs.writeFile(path.join(dir, 'account.key'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 1, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.deepEqual(summary.counts, { issued: 4, renewed: 0, unchanged: 0, failed: 2, waiting: 0, deferred: 0 });
  const failed = summary.results.filter((r: { status: string }) => r.status === 'failed');
  for (const f of failed) {
    assert.deepEqual(f.names, [bad]);
    assert.equal(f.errorType, 'connection', f.error);
    assert.match(f.error, new RegExp(bad.replace(/\./g, '\\.')));
  }
  const files = await tree(path.join(dir, 'test'));
  assert.ok(!files.some((f) => f.includes(bad)), `no files for the failed line: ${files.join(', ')}`);
  assert.deepEqual(await fs.readdir(fx.servers.dropDir), [], 'token files removed after success and failure');
  await fx.servers.clearA(bad);
});

test('config errors: exit 2, every problem reported, nothing written', async () => {
  const conf = await makeConfDir(fx.servers, { domains: 'ok.example.com\nlocalhost\n', actions: '[default]\nupdate: ["x"] # comment\n' });
  const dir = path.dirname(conf);
  await fs.appendFile(conf, '\n[config]\nkeyBitsRSA: 1024\n');
  const res = await run(['--test', '--config', conf]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /domains:2: error: /);
  assert.match(res.stderr, /actions\.conf:2: error: /);
  assert.match(res.stderr, /lematt\.conf:\d+: error: /);
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['account.key', 'actions.conf', 'domains', 'lematt.conf']);
});

test('usage errors and a missing account key: exit 2 with a clear message', async () => {
  const conf = await makeConfDir(fx.servers, { domains: `x${rand()}.example.com\n` });
  const neither = await run(['--config', conf]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /--test .* or --prod/);
  const both = await run(['--test', '--prod', '--config', conf]);
  assert.equal(both.code, 2);
  const par = await run(['--test', '--parallel', '0', '--config', conf]);
  assert.equal(par.code, 2);
  assert.match(par.stderr, /--parallel/);
  await fs.rm(path.join(path.dirname(conf), 'account.key'));
  const nokey = await run(['--test', '--config', conf]);
  assert.equal(nokey.code, 2);
  assert.match(nokey.stderr, /accountKey .*does not exist; create one with: certfleet init/);
  const init = await run(['init', '--config', conf]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal((await fs.stat(path.join(path.dirname(conf), 'account.key'))).mode & 0o777, 0o600);
  const ok = await run(['--test', '--config', conf]);
  assert.equal(ok.code, 0, ok.stderr);
});
