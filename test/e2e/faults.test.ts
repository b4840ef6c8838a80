// Faults that must fail one certificate only (and cost no order), a CA that never answers, and
// the smaller run-level faults of issue 14, with the built binary against Pebble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { parseCertChain } from '../../src/crypto/cert.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');
const FORCE = 'generateNewCertsAfterDays: 0.00001';

/** Orders Pebble holds so far (it logs the count after each new order). */
function ordersSoFar(): number {
  const counts = [...fx.servers.logs().matchAll(/There are now (\d+) orders in the db/g)];
  return counts.length ? Number(counts[counts.length - 1]![1]) : 0;
}

async function twoLines(): Promise<{ conf: string; dir: string; a: string; b: string }> {
  const z = rand();
  const [a, b] = [`fa${z}.example.com`, `fb${z}.example.com`];
  const conf = await makeConfDir(fx.servers, { domains: `${a}\n${b}\n` });
  const first = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(first.code, 0, first.stderr);
  // generateNewCertsAfterDays 0.00001 is 0.86 s: let the certificates grow older than that.
  await new Promise((r) => setTimeout(r, 1500));
  const text = await fs.readFile(conf, 'utf8');
  await fs.writeFile(conf, text.replace('reauthorizeDays: 30\n', `reauthorizeDays: 30\n${FORCE}\n`));
  return { conf, dir: path.dirname(conf), a, b };
}

function resultOf(stdout: string, name: string, keyType: string): { status: string; error: string | null } {
  const s = JSON.parse(stdout) as { results: { names: string[]; keyType: string; status: string; error: string | null }[] };
  return s.results.find((r) => r.names[0] === name && r.keyType === keyType)!;
}

test('a publish blocked by a directory at the key path fails that certificate only, costs no order, and completes once fixed', async () => {
  const { conf, dir, a, b } = await twoLines();
  const key = path.join(dir, `test/key/${a}-key.rsa2048.test.pem`);
  const cert = path.join(dir, `test/cert/${a}-cert-combined.rsa2048.test.pem`);
  // An interrupted publish of a (matching) pair, then the key path turned into a directory.
  const stagedKey = path.join(path.dirname(key), `.${path.basename(key)}.tmp-0badc0de`);
  const stagedCert = path.join(path.dirname(cert), `.${path.basename(cert)}.tmp-0badc0de`);
  await fs.copyFile(key, stagedKey);
  await fs.copyFile(cert, stagedCert);
  const owed = [{ section: 'default', certs: [{ names: [a], keyType: 'rsa', certPath: cert, keyPath: key }] }];
  await fs.writeFile(path.join(dir, 'test/.certfleet/publish-00000000deadbeef.json'),
    JSON.stringify({ version: 2, moves: [{ from: stagedKey, to: key }, { from: stagedCert, to: cert }], links: [], owed }));
  await fs.rm(key);
  await fs.mkdir(key);

  for (const round of [1, 2]) {
    const before = ordersSoFar();
    const res = await runCertfleet(['--test', '--config', conf, '--json'], { env: fx.env });
    assert.equal(res.code, 1, res.stderr);
    const broken = resultOf(res.stdout, a, 'rsa');
    assert.equal(broken.status, 'failed');
    assert.match(broken.error!, /is a directory.*move (the directory|it) away/);
    for (const [n, t] of [[a, 'ec'], [b, 'rsa'], [b, 'ec']] as const) assert.equal(resultOf(res.stdout, n, t).status, 'renewed', `round ${round}: ${n} ${t}`);
    assert.equal(ordersSoFar() - before, 3, `round ${round}: no order for the broken certificate`);
    // The renewed certificates must grow older than generateNewCertsAfterDays (0.86 s) again.
    await new Promise((r) => setTimeout(r, 1500));
  }
  await fs.rmdir(key);
  const fixed = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.match(fixed.stderr, new RegExp(`completed an interrupted update of ${key.replace(/\./g, '\\.')}`));
  const pair = [parsePrivateKey(await fs.readFile(key, 'utf8')), parseCertChain(await fs.readFile(cert, 'utf8'))] as const;
  assert.equal(pair[1].spkiSha256, spkiSha256(pair[0]));
});

test('a directory at a certificate path fails that certificate before any order; the others are renewed', async () => {
  const { conf, dir, a, b } = await twoLines();
  const cert = path.join(dir, `test/cert/${b}-cert-combined.prime256v1.test.pem`);
  await fs.rm(cert);
  await fs.mkdir(cert);
  const before = ordersSoFar();
  const res = await runCertfleet(['--test', '--config', conf, '--json'], { env: fx.env });
  assert.equal(res.code, 1, res.stderr);
  const broken = resultOf(res.stdout, b, 'ec');
  assert.equal(broken.status, 'failed');
  assert.match(broken.error!, /is a directory.*move (the directory|it) away/);
  for (const [n, t] of [[a, 'rsa'], [a, 'ec'], [b, 'rsa']] as const) assert.equal(resultOf(res.stdout, n, t).status, 'renewed');
  assert.equal(ordersSoFar() - before, 3);
});

test('a CA stand-in that accepts connections and never answers: the run ends within its one deadline', async () => {
  // Stand-in: no real CA here can be made to hang; a raw TCP listener that never replies.
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const conf = await makeConfDir(fx.servers, { domains: `h${rand()}.example.com\ni${rand()}.example.com\n` });
    const started = Date.now();
    const res = await runCertfleet(['--test', '--config', conf, '--json', '--directory', `http://127.0.0.1:${port}/dir`], {
      env: { ...fx.env, CERTFLEET_CA_TIMEOUT_MS: '1500' },
      timeoutMs: 30_000,
    });
    const took = Date.now() - started;
    assert.equal(res.code, 1, res.stderr);
    const s = JSON.parse(res.stdout) as { results: { status: string; error: string }[] };
    assert.equal(s.results.length, 4);
    assert.ok(s.results.every((r) => r.status === 'failed'));
    assert.ok(s.results.filter((r) => /did not answer .* not asked again/.test(r.error)).length >= 3, res.stdout);
    // One request timeout for the whole run (not one per certificate, nor retries), plus start-up.
    assert.ok(took < 1500 + 3500, `took ${took} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('a run-level failure under --json prints an object with the error on stdout', async () => {
  const conf = await makeConfDir(fx.servers, { domains: `j${rand()}.example.com\n` });
  // A live holder: this test process's pid in a lock as earlier versions wrote it.
  await fs.writeFile(path.join(path.dirname(conf), '.certfleet.lock'), `${process.pid}\n`);
  const res = await runCertfleet(['--test', '--config', conf, '--json'], { env: { ...fx.env, CERTFLEET_LOCK_WAIT_MS: '100' } });
  assert.equal(res.code, 3, res.stderr);
  const out = JSON.parse(res.stdout) as { error: string; errorType: string };
  assert.equal(out.errorType, 'LockBusyError');
  assert.match(out.error, new RegExp(`pid ${process.pid}`));
});

test('damaged deploy.json and publish journal are set aside with a warning; the run goes on', async () => {
  const name = `k${rand()}.example.com`;
  const conf = await makeConfDir(fx.servers, { domains: `${name}\n` });
  const dir = path.dirname(conf);
  assert.equal((await runCertfleet(['--test', '--config', conf], { env: fx.env })).code, 0);
  const state = path.join(dir, 'test/.certfleet');
  await fs.writeFile(path.join(state, 'deploy.json'), '{"version": 1, "pending": {"x": 1}}');
  await fs.writeFile(path.join(state, 'publish-0123456789abcdef.json'), 'garbage\n');
  const res = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /deploy\.json: "pending" must be an array; kept as .*deploy\.json\.damaged-\d{8}T\d{6}Z\. The deployments it still owed are forgotten/);
  assert.match(res.stderr, /publish-0123456789abcdef\.json: .*kept as .*damaged-.*the files on disk are used as they are/);
  const files = await fs.readdir(state);
  assert.ok(files.some((f) => f.startsWith('deploy.json.damaged-')));
  assert.ok(files.some((f) => f.startsWith('publish-0123456789abcdef.json.damaged-')));
  assert.ok(!files.includes('deploy.json') && !files.includes('publish-0123456789abcdef.json'));
  const again = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /warning/);
});

test('a read-only conf dir: a run with nothing to do succeeds and writes nothing; one with work names the directory', async () => {
  const name = `ro${rand()}.example.com`;
  const conf = await makeConfDir(fx.servers, { domains: `${name}\n` });
  const dir = path.dirname(conf);
  assert.equal((await runCertfleet(['--test', '--config', conf], { env: fx.env })).code, 0);
  // The harness's drop dir is inside a 0700 dir; that user gets one of its own (not under test here).
  const drop = await fs.mkdtemp(path.join(path.dirname(dir), 'certfleet-drop-'));
  await fs.chmod(drop, 0o1777);
  await fs.writeFile(conf, (await fs.readFile(conf, 'utf8')).replace(/challengeDropDir: .*/, `challengeDropDir: ${drop}`));
  // Owned by another user, every write bit off: as that user, nothing can be written.
  execFileSync('chown', ['-R', 'nobody:nogroup', dir]);
  execFileSync('chmod', ['-R', 'a-w', dir]);
  const listing = () => execFileSync('find', [dir, '-printf', '%p %s %T@\n'], { encoding: 'utf8' });
  const before = listing();
  try {
    const ok = await runAs(['--test', '--config', conf]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(listing(), before, 'nothing written');
    await fs.appendFile(path.join(dir, 'domains'), `new${name}\n`);
    const due = await runAs(['--test', '--config', conf]);
    assert.equal(due.code, 1, due.stderr);
    assert.match(due.stderr, new RegExp(`${dir.replace(/\./g, '\\.')}: cannot create the run lock there \\(EACCES\\); 2 certificate\\(s\\) due`));
  } finally {
    execFileSync('chmod', ['-R', 'u+w', dir]);
  }
});

/** Runs the binary as user nobody (the test runs as root). */
function runAs(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('bin/certfleet'), ...args], { uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH } });
    const err: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code: number | null) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

test('a full disk: the error names the file, and no lock file is left', async (t) => {
  const source = await makeConfDir(fx.servers, { domains: `nospace${rand()}.example.com\n` });
  const mnt = await fs.mkdtemp(path.join(path.dirname(path.dirname(source)), 'certfleet-full-'));
  // A small tmpfs, filled up: the only way to a real ENOSPC here (needs root, as the suite has).
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  t.after(() => execFileSync('umount', ['-l', mnt]));
  for (const f of ['lematt.conf', 'domains', 'actions.conf']) await fs.copyFile(path.join(path.dirname(source), f), path.join(mnt, f));
  for (const sub of ['test/key', 'test/csr', 'test/cert', 'test/.certfleet']) await fs.mkdir(path.join(mnt, sub), { recursive: true });
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd stops at ENOSPC, as intended
  }
  const res = await runCertfleet(['--test', '--config', path.join(mnt, 'lematt.conf')], { env: fx.env });
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, new RegExp(`${mnt.replace(/\./g, '\\.')}/test/\\S+: ENOSPC`), res.stderr);
  assert.deepEqual((await fs.readdir(mnt)).filter((f) => f.includes('lock')), []);
  assert.deepEqual((await fs.readdir(path.join(mnt, 'test/key'))), [], 'no temp file left');
});
