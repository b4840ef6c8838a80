// End to end: DNS-01 with the built bin/certfleet against Pebble, which resolves names through a
// real BIND 9 on a loopback port: authoritative for the test zones, taking TSIG-signed dynamic
// updates. One run covers an apex + wildcard certificate through rfc2136, a second zone through
// an exec hook that calls nsupdate, a name whose _acme-challenge is a CNAME into another zone,
// and a setup with a wrong TSIG secret, whose line alone fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCertChain, verifyChain } from '../../src/crypto/cert.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import type { TsigKey } from '../../src/dns/tsig.ts';
import { startBind, type RunningBind } from '../support/bind.ts';
import { writeNsupdateHook } from '../support/nsupdate-hook.ts';
import { makeConfDir, runCertfleet, startTestServers, type TestServers } from '../support/servers.ts';
import { served } from '../unit/dns/providers/contract.ts';

const z = randomBytes(4).toString('hex');
const RFC = `rfc${z}.example.com`; // apex + wildcard, rfc2136 with a secret file
const ACME = `acme${z}.example.org`; // where _acme-challenge.cn.<RFC> is delegated to
const HOOK = `hook${z}.example.net`; // exec provider: a hook script calling nsupdate
const BAD = `bad${z}.example.com`; // rfc2136 with a wrong secret
const key: TsigKey = { name: 'certfleet-e2e.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const wrongSecret = randomBytes(32).toString('base64');

let bind: RunningBind;
let servers: TestServers;
before(async () => {
  bind = await startBind({
    tsig: key,
    // A CA asks a recursive resolver, which follows the CNAME into the other zone; BIND does
    // that from its own zones when recursion is allowed (it never leaves them here).
    recursion: true,
    zones: [
      { name: RFC, records: ['@ A 127.0.0.1', '_acme-challenge TXT "unrelated-token"', `_acme-challenge.cn CNAME _acme-challenge.cn.${ACME}.`] },
      { name: ACME },
      { name: HOOK, records: ['@ A 127.0.0.1'] },
      { name: BAD },
    ],
  });
  servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
});
after(async () => {
  await servers?.stop();
  await bind?.stop();
});

/** Asserts the key and certificate at lematt's paths belong together, cover `names` and chain to Pebble's root. */
async function assertIssued(dir: string, base: string, names: string[]): Promise<void> {
  const root = await servers.rootPem();
  for (const tag of ['rsa2048', 'prime256v1']) {
    const certFile = path.join(dir, 'test/cert', `${base}-cert-combined.${tag}.test.pem`);
    const pem = await fs.readFile(certFile, 'utf8');
    const cert = parseCertChain(pem);
    const key = parsePrivateKey(await fs.readFile(path.join(dir, 'test/key', `${base}-key.${tag}.test.pem`), 'utf8'));
    assert.equal(cert.spkiSha256, spkiSha256(key), `${certFile} belongs to its key`);
    assert.deepEqual([...cert.names].sort(), [...names].sort(), certFile);
    assert.equal(verifyChain(pem, root), null, `${certFile} chains to Pebble's root`);
  }
}

test('dns-01: apex + wildcard via rfc2136, exec hook, CNAME delegation, a wrong TSIG secret failing only its line', async () => {
  const conf = await makeConfDir(servers, { domains: `${RFC} *\n${HOOK} www\ncn.${RFC}\n${BAD} *\n` });
  const dir = path.dirname(conf);
  const secretFile = path.join(dir, 'tsig.secret');
  await fs.writeFile(secretFile, `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n`, { mode: 0o600 });
  const hookLog = path.join(dir, 'hook.log');
  const hook = await writeNsupdateHook(dir, { port: bind.port, zone: HOOK, tsig: key, log: hookLog });
  const dns = `127.0.0.1:${bind.port}`;
  await fs.appendFile(conf, [
    '',
    '[dns:rfc]', `zones: ${RFC} ${ACME}`, 'provider: rfc2136', `server: ${dns}`, `tsigKey: ${key.name}`, 'tsigAlgorithm: hmac-sha256',
    `tsigSecretFile: ${secretFile}`, `nameservers: ${dns}`, 'propagationTimeout: 20',
    '',
    '[dns:hook]', `zones: ${HOOK}`, 'provider: exec', `command: ${hook}`, `nameservers: ${dns}`, 'propagationTimeout: 20',
    '',
    '[dns:broken]', `zones: ${BAD}`, 'provider: rfc2136', `server: ${dns}`, `tsigKey: ${key.name}`, `tsigSecret: ${wrongSecret}`, 'propagationTimeout: 20',
    '',
  ].join('\n'));

  const res = await runCertfleet(['--test', '--config', conf, '--parallel', '4', '--json'], { env: { NODE_EXTRA_CA_CERTS: servers.caCertPath }, timeoutMs: 120_000 });
  const output = res.stdout + res.stderr;
  assert.equal(res.code, 1, `${res.stderr}\n${servers.logs()}\n${bind.log()}`);
  const summary = JSON.parse(res.stdout);
  assert.deepEqual(summary.counts, { issued: 6, renewed: 0, unchanged: 0, failed: 2, waiting: 0, deferred: 0 }, res.stderr);

  // The wrong secret fails its own line, clearly: setup, zone, server, what to check; no secret.
  for (const r of summary.results.filter((x: { status: string }) => x.status === 'failed')) {
    assert.deepEqual(r.names, [BAD, `*.${BAD}`]);
    assert.equal(r.errorType, 'BADSIG', r.error);
    assert.match(r.error, new RegExp(`^dns-01 (\\*\\.)?${BAD.replace(/\./g, '\\.')} \\[dns:broken\\] rfc2136: add TXT _acme-challenge\\.${BAD.replace(/\./g, '\\.')}: dns update zone ${BAD.replace(/\./g, '\\.')} at 127\\.0\\.0\\.1:${bind.port}: NOTAUTH: .*BADSIG.*check tsigSecret`), r.error);
  }
  for (const secret of [key.secret, wrongSecret]) assert.ok(!output.includes(secret), 'no TSIG secret in the output');

  // Apex and wildcard in one certificate, RSA and EC; the exec zone; the CNAME-delegated name.
  await assertIssued(dir, `${RFC}__.${RFC}`, [RFC, `*.${RFC}`]);
  await assertIssued(dir, `${HOOK}_www.${HOOK}`, [HOOK, `www.${HOOK}`]);
  await assertIssued(dir, `cn.${RFC}`, [`cn.${RFC}`]);
  assert.match(res.stderr, new RegExp(`_acme-challenge\\.cn\\.${RFC.replace(/\./g, '\\.')} is delegated to _acme-challenge\\.cn\\.${ACME.replace(/\./g, '\\.')}`));

  // Every record added is gone again; the unrelated one stays.
  const at = { host: '127.0.0.1', port: bind.port };
  assert.deepEqual(await served(at, `_acme-challenge.${RFC}`), ['unrelated-token']);
  for (const owner of [`_acme-challenge.cn.${ACME}`, `_acme-challenge.${HOOK}`, `_acme-challenge.www.${HOOK}`, `_acme-challenge.${BAD}`]) {
    assert.deepEqual(await served(at, owner), [], `${owner} is clean`);
  }
  const calls = (await fs.readFile(hookLog, 'utf8')).trim().split('\n');
  const presents = calls.filter((c) => c.startsWith('present '));
  assert.ok(presents.length >= 2, calls.join('\n'));
  assert.equal(calls.filter((c) => c.startsWith('cleanup ')).length, presents.length, 'every present cleaned up');
  assert.ok(presents.every((c) => new RegExp(`^present _acme-challenge\\.(www\\.)?${HOOK.replace(/\./g, '\\.')}\\. [A-Za-z0-9_-]{43}$`).test(c)), calls.join('\n'));
  assert.deepEqual(await fs.readdir(servers.dropDir), [], 'nothing went through the HTTP-01 drop dir');

  // Nothing due now except the failed line, held by its back-off (still failing: exit 1); with
  // --retry it fails the same way again.
  const env = { NODE_EXTRA_CA_CERTS: servers.caCertPath };
  const again = await runCertfleet(['--test', '--config', conf, '--json'], { env, timeoutMs: 120_000 });
  assert.equal(again.code, 1, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).counts, { issued: 0, renewed: 0, unchanged: 6, failed: 0, waiting: 2, deferred: 0 });
  const retried = await runCertfleet(['--test', '--config', conf, '--json', '--retry'], { env, timeoutMs: 120_000 });
  assert.equal(retried.code, 1, retried.stderr);
  assert.deepEqual(JSON.parse(retried.stdout).counts, { issued: 0, renewed: 0, unchanged: 6, failed: 2, waiting: 0, deferred: 0 });
});

test('dns-01 config errors stop the run before anything happens: exit 2 with file:line', async () => {
  const conf = await makeConfDir(servers, { domains: `${RFC} *\nwild${z}.example.net *\n` });
  await fs.appendFile(conf, `\n[dns:a]\nzones: ${RFC}\nprovider: nsupdate\n\n[dns:b]\nzones: www.${RFC}\nprovider: rfc2136\nserver: 127.0.0.1:${bind.port}\ntsigKey: k\n`);
  const res = await runCertfleet(['--test', '--config', conf], { env: { NODE_EXTRA_CA_CERTS: servers.caCertPath }, timeoutMs: 60_000 });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /lematt\.conf:\d+: error: provider: unknown DNS provider "nsupdate"; known providers: rfc2136, exec, acme-dns/);
  assert.match(res.stderr, /lematt\.conf:\d+: error: \[dns:b\]: the TSIG secret is missing/);
  assert.match(res.stderr, new RegExp(`lematt\\.conf:\\d+: error: zones: "www\\.${RFC.replace(/\./g, '\\.')}" overlaps "${RFC.replace(/\./g, '\\.')}" of \\[dns:a\\] \\(line \\d+\\)`));
  assert.match(res.stderr, new RegExp(`domains:2: error: wildcard \\*\\.wild${z}\\.example\\.net needs DNS-01 validation`));
  assert.deepEqual((await fs.readdir(path.dirname(conf))).sort(), ['account.key', 'actions.conf', 'domains', 'lematt.conf'], 'nothing written');
});

test('a TSIG secret, EAB key or acme-dns password pasted on its own line is never printed, by any command', async () => {
  const conf = await makeConfDir(servers, { domains: `${RFC} *\n` });
  const dir = path.dirname(conf);
  const dns = `127.0.0.1:${bind.port}`;
  const padded = (): string => {
    for (;;) {
      const s = randomBytes(32).toString('base64');
      if (s.endsWith('=')) return s;
    }
  };
  const tsig = padded(); // "=" reads as a delimiter: an unknown key
  const bare = randomBytes(33).toString('base64'); // no delimiter: an unparsable line
  const eab = randomBytes(32).toString('base64url');
  const password = randomBytes(30).toString('base64url');
  const secrets = [tsig, bare, eab, password];
  const text = (await fs.readFile(conf, 'utf8')).replace('\n[acme:test]\n', `\n[acme:test]\neabKid: kid-1\neabHmacKey:\n${eab}\n`);
  await fs.writeFile(conf, text + [
    '',
    '[dns:rfc]', `zones: ${RFC}`, 'provider: rfc2136', `server: ${dns}`, `tsigKey: ${key.name}`, 'tsigSecret:', tsig, bare,
    '',
    '[dns:acme]', `zones: ${ACME}`, 'provider: acme-dns', 'apiUrl: https://auth.example.org', `credentialsFile: ${dir}/acme-dns.json`, `password: ${password}`, password,
    '',
  ].join('\n'));
  const env = { NODE_EXTRA_CA_CERTS: servers.caCertPath };
  const outputs: string[] = [];
  for (const args of [['--test'], ['--test', '--dry-run'], ['plan', '--test'], ['thumbprint'], ['init'], ['respond', '--listen', '127.0.0.1:0']]) {
    const res = await runCertfleet([...args, '--config', conf], { env, timeoutMs: 60_000 });
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, /lematt\.conf:\d+: /, 'the problems are reported with file:line');
    outputs.push(res.stdout + res.stderr);
  }
  for (const output of outputs) {
    for (const secret of secrets) {
      assert.ok(!output.includes(secret.slice(0, 8)), `a secret (or 8 of its characters) in the output:\n${output}`);
    }
  }
  // Still pointed at: the line and its first characters.
  assert.match(outputs[0]!, new RegExp(`lematt\\.conf:\\d+: (warning|error): .*"${tsig.slice(0, 4).replace(/[+/]/g, '\\$&')}…"`));
  await fs.rm(dir, { recursive: true, force: true });
});
