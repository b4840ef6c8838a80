// Crash safety and overlapping runs, with the built binary against Pebble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCertChain } from '../../src/crypto/cert.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { certfleetBin, makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();

const rand = () => randomBytes(4).toString('hex');

/** Every (key, cert) pair at lematt's paths: both present and matching, or reports what is wrong. */
async function pairProblems(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const certs = (await fs.readdir(path.join(dir, 'test/cert')).catch(() => [] as string[])).filter((f) => /-cert-combined\..*\.pem$/.test(f));
  for (const c of certs) {
    const certFile = path.join(dir, 'test/cert', c);
    if ((await fs.lstat(certFile)).isSymbolicLink()) continue;
    const keyFile = path.join(dir, 'test/key', c.replace('-cert-combined.', '-key.'));
    try {
      const key = parsePrivateKey(await fs.readFile(keyFile, 'utf8'));
      const cert = parseCertChain(await fs.readFile(certFile, 'utf8'));
      if (cert.spkiSha256 !== spkiSha256(key)) problems.push(`${c}: certificate and key do not match`);
    } catch (err) {
      problems.push(`${c}: ${(err as Error).message}`);
    }
  }
  return problems;
}

async function journals(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'test/.certfleet')).catch(() => [] as string[])).filter((f) => f.startsWith('publish-'));
}

/** Starts a run and SIGKILLs it after `ms`; resolves when it is gone. */
function killAfter(conf: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(certfleetBin, ['--test', '--config', conf, '--parallel', '4'], { env: { ...process.env, ...fx.env }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('killed at many points of a renewal with new keys: the previous pair stays usable, the next run converges', async () => {
  const z = rand();
  // Every run renews with a new key: the path where key and certificate change together.
  const conf = await makeConfDir(fx.servers, {
    domains: `c${z}.example.com www\nd${z}.example.com\n`,
    extraConfig: 'generateNewCertsAfterDays: 0.00001\nalwaysGenerateNewKeys: yes',
  });
  const dir = path.dirname(conf);
  const first = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await pairProblems(dir), []);

  const delays = [30, 80, 120, 160, 200, 250, 300, 350, 400, 500, 650, 800, 1000, 1300, 1700];
  for (const ms of delays) {
    await killAfter(conf, ms);
    const problems = await pairProblems(dir);
    // A kill between the two renames of a pair leaves its journal, which the next run replays first.
    if (problems.length) assert.ok((await journals(dir)).length > 0, `killed at ${ms} ms: ${problems.join('; ')} and no journal to complete it`);
    const entries = await fs.readdir(path.join(dir, 'test/cert'), { withFileTypes: true });
    const certs = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
    assert.equal(certs.length, 4, `killed at ${ms} ms: every certificate still there (${certs.join(', ')})`);
  }

  const last = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(last.code, 0, last.stderr);
  assert.deepEqual(await pairProblems(dir), []);
  assert.deepEqual(await journals(dir), []);
  for (const sub of ['key', 'csr', 'cert']) {
    const leftovers = (await fs.readdir(path.join(dir, 'test', sub))).filter((f) => f.startsWith('.'));
    assert.deepEqual(leftovers, [], `no temp files left in ${sub}/`);
  }
  assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes('lock')), [], 'lock released');
});

test('two runs at once: the second waits briefly, then exits 3; state stays consistent', async () => {
  const z = rand();
  const conf = await makeConfDir(fx.servers, { domains: `e${z}.example.com www\nf${z}.example.com\ng${z}.example.com\n` });
  const dir = path.dirname(conf);
  const firstRun = runCertfleet(['--test', '--config', conf], { env: fx.env });
  // The holder's claim: .certfleet.lock-<pid>-<start time>-<random> (see store/lock.ts).
  const claimed = async () => (await fs.readdir(dir)).some((f) => f.startsWith('.certfleet.lock-'));
  for (let i = 0; i < 100 && !(await claimed()); i++) await new Promise((r) => setTimeout(r, 20));
  const second = await runCertfleet(['--test', '--config', conf], { env: { ...fx.env, CERTFLEET_LOCK_WAIT_MS: '300' } });
  assert.equal(second.code, 3, second.stderr);
  assert.match(second.stderr, /another certfleet run \(pid \d+\) holds .*\.certfleet\.lock/);
  const first = await firstRun;
  assert.equal(first.code, 0, first.stderr);

  // With the default wait, overlapping runs serialise: the later one finds nothing due.
  const [a, b] = await Promise.all([
    runCertfleet(['--test', '--config', conf, '--json'], { env: fx.env }),
    runCertfleet(['--test', '--config', conf, '--json'], { env: fx.env }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(JSON.parse(a.stdout).counts.unchanged + JSON.parse(b.stdout).counts.unchanged, 12);
  assert.deepEqual(await pairProblems(dir), []);
});

test('a stale lock from a killed run is taken over', async () => {
  const conf = await makeConfDir(fx.servers, { domains: `h${rand()}.example.com\n` });
  const dir = path.dirname(conf);
  await fs.writeFile(path.join(dir, '.certfleet.lock'), '999999\n');
  const res = await runCertfleet(['--test', '--config', conf], { env: { ...fx.env, CERTFLEET_LOCK_WAIT_MS: '300' } });
  assert.equal(res.code, 0, res.stderr);
});
