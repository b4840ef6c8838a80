// Issue 11, "Cluster nodes" and "Compatibility with lematt", end to end: the built bin/certfleet
// against Pebble (5% nonce rejection, no validation sleep), pebble-challtestsrv as its DNS and
// nginx serving the drop dir.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { parseCertChain } from '../../src/crypto/cert.ts';
import { parseCsr } from '../../src/crypto/csr.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { fetchText } from '../support/http.ts';
import { startProcess, waitReady, type ServerProcess } from '../support/process.ts';
import { certfleetBin, makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');
const run = (args: string[], cwd?: string) => runCertfleet(args, { env: fx.env, cwd });
const children: ServerProcess[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(children.map((c) => c.stop(2000)));
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function confDir(opts: Parameters<typeof makeConfDir>[1]): Promise<{ conf: string; dir: string }> {
  const conf = await makeConfDir(fx.servers, opts);
  dirs.push(path.dirname(conf));
  return { conf, dir: path.dirname(conf) };
}

test('a cluster node: `respond --thumbprint` runs with no conf at all and answers the CA; thumbprint and init need lematt.conf only', async () => {
  const name = `node${rand()}.example.com`;
  await fx.servers.setA(name, ['127.0.0.6']);
  const { conf, dir } = await confDir({ domains: name });
  // The central host's drop dir is served by nothing: only the node can answer.
  const unserved = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-unserved-'));
  dirs.push(unserved);
  await fs.writeFile(conf, (await fs.readFile(conf, 'utf8')).replace(`challengeDropDir: ${fx.servers.dropDir}\n`, `challengeDropDir: ${unserved}\n`));

  // thumbprint on a copy of lematt.conf with no domains or actions.conf beside it.
  const bare = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-bare-'));
  dirs.push(bare);
  await fs.copyFile(conf, path.join(bare, 'lematt.conf'));
  const tp = await run(['thumbprint', '--config', path.join(bare, 'lematt.conf')]);
  assert.equal(tp.code, 0, tp.stderr);
  assert.match(tp.stdout, /^[\w-]{43}\n$/);
  const thumbprint = tp.stdout.trim();

  // The node: an empty working directory, no conf, no key; the thumbprint alone.
  const node = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-node-'));
  dirs.push(node);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const respond = startProcess('certfleet respond', certfleetBin, ['respond', '--thumbprint', thumbprint, '--listen', `127.0.0.6:${fx.servers.httpPort}`], env, node);
  children.push(respond);
  await waitReady(respond, 'listener', Date.now() + 10_000, async () => /: listening on /.test(respond.tail()));
  const probe = await fetchText(`http://127.0.0.6:${fx.servers.httpPort}/.well-known/acme-challenge/Tok_en-1`);
  assert.deepEqual([probe.status, probe.body], [200, `Tok_en-1.${thumbprint}`]);

  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 0, `${res.stderr}\n${respond.tail()}`);
  assert.deepEqual(JSON.parse(res.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });
  assert.ok(respond.tail().split('\n').filter((l) => /"GET \/\.well-known\/acme-challenge\/[\w-]+" 200$/.test(l)).length >= 3, respond.tail());
  assert.deepEqual(await fs.readdir(node), [], 'the node wrote nothing');
  await respond.stop(5000);
  assert.deepEqual(respond.exited(), { code: 0, signal: null });

  // --thumbprint-file; and without flags on the node: a config error through the one boundary.
  await fs.writeFile(path.join(node, 'tp'), `${thumbprint}\n`);
  const viaFile = startProcess('certfleet respond', certfleetBin, ['respond', '--thumbprint-file', 'tp', '--listen', `127.0.0.6:${fx.servers.httpPort}`], env, node);
  children.push(viaFile);
  await waitReady(viaFile, 'listener', Date.now() + 10_000, async () => /: listening on /.test(viaFile.tail()));
  assert.equal((await fetchText(`http://127.0.0.6:${fx.servers.httpPort}/.well-known/acme-challenge/x`)).body, `x.${thumbprint}`);
  await viaFile.stop(5000);
  const noConf = await run(['respond', '--listen', '127.0.0.6:0'], node);
  assert.equal(noConf.code, 2, noConf.stderr);
  assert.equal(noConf.stderr, 'conf/lematt.conf: error: cannot read: no such file or directory\ncertfleet: 1 config error; nothing was done\n');

  // init with lematt.conf alone: the missing key and its directories are made (0600, 0700).
  const initDir = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-init-'));
  dirs.push(initDir);
  await fs.writeFile(path.join(initDir, 'lematt.conf'), `[config]\nchallengeDropDir: ${unserved}\naccountKey: ${initDir}/keys/acme/account.key\n`);
  const init = await run(['init', '--config', path.join(initDir, 'lematt.conf')]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal((await fs.stat(path.join(initDir, 'keys/acme/account.key'))).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.join(initDir, 'keys'))).mode & 0o777, 0o700);
  assert.equal((await fs.stat(path.join(initDir, 'keys/acme'))).mode & 0o777, 0o700);
  await fx.servers.clearA(name);
});

test('CERTS and KEYS of an RSA+EC line list each glob once per section, in lematt\'s order', async () => {
  const z = rand();
  const [a, b] = [`a${z}.example.com`, `b${z}.example.org`];
  const { conf, dir } = await confDir({ domains: `${a} www ${b}\n` });
  const log = path.join(dir, 'actions.log');
  await fs.writeFile(path.join(dir, 'actions.conf'), `[default]\nuploadCerts: ["echo CERTS >> ${log}"]\nuploadKeys: ["echo KEYS >> ${log}"]\n`);
  const res = await run(['--test', '--config', conf, '--json', '--parallel', '2']);
  assert.equal(res.code, 0, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.deepEqual(summary.counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });
  const [deployment] = summary.deployments;
  const globs = (sub: string) => [a, `www.${a}`, b].map((n) => `${dir}/test/${sub}/${n}*`).join(' ');
  assert.deepEqual(deployment.commands.map((c: { command: string }) => c.command), [`echo ${globs('cert')} >> ${log}`, `echo ${globs('key')} >> ${log}`]);
  // As the shell expanded them: every file of both key types, each once.
  const [certs, keys] = (await fs.readFile(log, 'utf8')).trim().split('\n').map((l) => l.split(' '));
  for (const list of [certs!, keys!]) assert.equal(new Set(list).size, list.length, `no file twice: ${list.join(' ')}`);
  assert.ok(certs!.includes(`${dir}/test/cert/${a}_www.${a}_${b}-cert-combined.rsa2048.test.pem`) && certs!.includes(`${dir}/test/cert/${a}_www.${a}_${b}-cert-combined.prime256v1.test.pem`), certs!.join('\n'));
});

test('prepare is awaited: a prepare command that serves only after 2 s issues on the first try (and fails without the wait)', async () => {
  const { servers } = fx;
  const prep = path.join(await fs.mkdtemp(path.join(tmpdir(), 'certfleet-prep-')), 'prep.sh');
  dirs.push(path.dirname(prep));
  // Like `ssh shop certfleet forward …`: the forwarder listens 2 s after prepare starts.
  await fs.writeFile(prep, `#!/bin/sh\nsleep 2\nexec ${certfleetBin} forward --to http://127.0.0.1:${servers.httpPort} --listen 127.0.0.7:${servers.httpPort}\n`, { mode: 0o755 });
  const setup = async (wait: string) => {
    const name = `slow${rand()}.example.com`;
    await servers.setA(name, ['127.0.0.7']);
    const extraConfig = `resolver: 127.0.0.1:${servers.dnsPort}\npreflightPort: ${servers.httpPort}\n${wait}`;
    const { conf } = await confDir({ domains: name, actions: `[default]\nprepare: ["${prep} DOMAIN"]\n`, extraConfig });
    return { name, conf };
  };

  const ok = await setup('');
  const started = Date.now();
  const res = await run(['--test', '--config', ok.conf, '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 }, res.stderr);
  const served = res.stderr.match(/challenge served after (\d+\.\d) s \(prepare commands awaited\)/g) ?? [];
  // The EC request may find the name's authorization valid already (Pebble reuses half of them):
  // then it has no challenge to wait for.
  assert.ok(served.length === 1 || served.length === 2, res.stderr);
  for (const line of served) assert.ok(Number(/(\d+\.\d)/.exec(line)![1]) >= 1.5, line);
  assert.ok(Date.now() - started >= 2000, 'the request waited for its prepare command');

  // The same with prepareWait: 0: the CA comes before the forwarder listens.
  const control = await setup('prepareWait: 0\n');
  const bad = await run(['--test', '--config', control.conf, '--json']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.deepEqual(JSON.parse(bad.stdout).counts, { issued: 0, renewed: 0, unchanged: 0, failed: 2, waiting: 0, deferred: 0 });

  // Never served within prepareWait: said, then the CA is asked anyway (and fails).
  const never = await setup('prepareWait: 1\n');
  await fs.writeFile(path.join(path.dirname(never.conf), 'actions.conf'), '[default]\nprepare: ["/bin/sleep 30"]\n');
  const late = await run(['--test', '--config', never.conf, '--json', '--cron']);
  assert.equal(late.code, 1, late.stderr);
  assert.match(late.stderr, new RegExp(`warning: ${never.name.replace(/\./g, '\\.')}: challenge still not served 1\\.0 s after its prepare commands started \\(prepareWait\\): .*ECONNREFUSED.*; asking the CA anyway`));
  for (const s of [ok, control, never]) await servers.clearA(s.name);
});

/** A lematt-style RSA key (PKCS#1) with a CN-only CSR made by openssl, and a certificate 80 of 85 days old. */
async function lemattFiles(dir: string, name: string): Promise<{ keyPem: string; csrPem: string }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs1', format: 'pem' }).toString();
  const keyFile = path.join(dir, 'test/key', `${name}-key.rsa2048.test.pem`);
  const csrFile = path.join(dir, 'test/csr', `${name}-csr.rsa2048.test.csr`);
  await fs.mkdir(path.dirname(keyFile), { recursive: true });
  await fs.mkdir(path.dirname(csrFile), { recursive: true });
  await fs.mkdir(path.join(dir, 'test/cert'), { recursive: true });
  await fs.writeFile(keyFile, keyPem, { mode: 0o600 });
  execFileSync('openssl', ['req', '-new', '-sha256', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csrFile]);
  const day = 86_400_000;
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: `CN=${name}`, keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 80 * day), notAfter: new Date(Date.now() + 5 * day),
  });
  await fs.writeFile(path.join(dir, 'test/cert', `${name}-cert-combined.rsa2048.test.pem`), cert.toString('pem') + '\n');
  return { keyPem, csrPem: await fs.readFile(csrFile, 'utf8') };
}

test('a lematt CN-only CSR is remade from the same key and renewed on Pebble', async () => {
  const name = `cn${rand()}.example.com`;
  const { conf, dir } = await confDir({ domains: name });
  const { keyPem, csrPem } = await lemattFiles(dir, name);
  assert.doesNotMatch(execFileSync('openssl', ['req', '-noout', '-text'], { input: csrPem }).toString(), /Subject Alternative Name/, 'lematt-style: no SAN');
  assert.deepEqual(parseCsr(csrPem).sanNames, []);

  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const results = JSON.parse(res.stdout).results as { keyType: string; status: string }[];
  assert.deepEqual(results.map((r) => [r.keyType, r.status]), [['rsa', 'renewed'], ['ec', 'issued']]);
  const key = path.join(dir, 'test/key', `${name}-key.rsa2048.test.pem`);
  assert.equal(await fs.readFile(key, 'utf8'), keyPem, 'the key was reused');
  const csr = parseCsr(await fs.readFile(path.join(dir, 'test/csr', `${name}-csr.rsa2048.test.csr`), 'utf8'));
  assert.deepEqual(csr.sanNames, [name], 'the new CSR has a subjectAltName');
  const cert = parseCertChain(await fs.readFile(path.join(dir, 'test/cert', `${name}-cert-combined.rsa2048.test.pem`), 'utf8'));
  assert.equal(cert.spkiSha256, spkiSha256(parsePrivateKey(keyPem)));
  assert.deepEqual(cert.names, [name]);
  assert.equal(csr.spkiSha256, cert.spkiSha256);
});

test('a reauthorizeDays window that never fires is said under --cron once per change of config or certificate', async () => {
  const name = `wide${rand()}.example.com`;
  const { conf, dir } = await confDir({ domains: name });
  const setDays = async (days: number) => fs.writeFile(conf, (await fs.readFile(conf, 'utf8')).replace(/^reauthorizeDays: \d+$/m, `reauthorizeDays: ${days}`));
  const cron = () => run(['--test', '--config', conf, '--cron']);
  await setDays(2000); // lematt users' "renew on every run"; Pebble's certificates last 5 years
  assert.equal((await cron()).code, 0);
  const first = await cron();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, '');
  assert.equal(first.stderr.match(/^\[TEST\] warning: .*reauthorizeDays \(2000d\) is larger than two thirds/gm)?.length, 2, first.stderr);
  assert.equal((await fs.stat(path.join(dir, 'test/.certfleet/warned.json'))).mode & 0o777, 0o600);
  const second = await cron();
  assert.equal(second.stdout + second.stderr, '', 'not every night');
  await setDays(2001);
  const changed = await cron();
  assert.equal(changed.stderr.match(/reauthorizeDays \(2001d\) is larger/g)?.length, 2, changed.stderr);
  assert.equal((await cron()).stderr, '');
  // A new certificate is a change too.
  await fs.rm(path.join(dir, 'test/cert', `${name}-cert-combined.prime256v1.test.pem`));
  const reissue = await cron();
  assert.equal(reissue.code, 0, reissue.stderr);
  const after = await cron();
  assert.equal(after.stderr.match(/reauthorizeDays \(2001d\) is larger/g)?.length, 1, `only the new certificate's: ${after.stderr}`);
  // At a terminal it is still shown every time, as plan shows it.
  const terminal = await run(['--test', '--config', conf]);
  assert.equal(terminal.stderr.match(/reauthorizeDays \(2001d\) is larger/g)?.length, 2, terminal.stderr);
});
