// Runs killed before each (sampled) file-system call, against Pebble with the built binary: a
// first issuance and a renewal with deploy actions, each followed by a run that must converge
// to a complete store in which every installed certificate was deployed exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCertChain } from '../../src/crypto/cert.ts';
import { parseCsr } from '../../src/crypto/csr.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { processesWith, runHooked, samplePoints } from '../support/kill-points.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');

/** Everything wrong with the store of `dir` (test mode) for its domains lines: empty when complete. */
async function storeProblems(dir: string, lines: string[][]): Promise<string[]> {
  const problems: string[] = [];
  for (const names of lines) {
    const base = names.length === 1 ? names[0]! : [names[0], ...names.slice(1).sort()].join('_');
    for (const tag of ['rsa2048', 'prime256v1']) {
      const key = path.join(dir, `test/key/${base}-key.${tag}.test.pem`);
      const cert = path.join(dir, `test/cert/${base}-cert-combined.${tag}.test.pem`);
      const csr = path.join(dir, `test/csr/${base}-csr.${tag}.test.csr`);
      try {
        const k = spkiSha256(parsePrivateKey(await fs.readFile(key, 'utf8')));
        const c = parseCertChain(await fs.readFile(cert, 'utf8'));
        if (c.spkiSha256 !== k) problems.push(`${base} ${tag}: certificate and key do not match`);
        if (parseCsr(await fs.readFile(csr, 'utf8')).spkiSha256 !== k) problems.push(`${base} ${tag}: CSR is for another key`);
      } catch (err) {
        problems.push(`${base} ${tag}: ${(err as Error).message}`);
        continue;
      }
      if (names.length === 1) continue;
      for (const name of names) {
        for (const [link, target] of [
          [path.join(dir, `test/key/${name}-key.${tag}.test.pem`), key],
          [path.join(dir, `test/cert/${name}-cert-combined.${tag}.test.pem`), cert],
        ]) {
          const resolved = await fs.realpath(link!).catch(() => null);
          if (resolved !== (await fs.realpath(target!))) problems.push(`${link}: does not lead to ${target}`);
        }
      }
    }
  }
  for (const sub of ['key', 'csr', 'cert']) {
    const temps = (await fs.readdir(path.join(dir, 'test', sub)).catch(() => [] as string[])).filter((f) => f.startsWith('.'));
    if (temps.length) problems.push(`temp files left in ${sub}/: ${temps.join(' ')}`);
  }
  const state = await fs.readdir(path.join(dir, 'test/.certfleet')).catch(() => [] as string[]);
  if (state.some((f) => f.startsWith('publish-'))) problems.push('a publish journal is left');
  return problems;
}

/** Fingerprints of the live certificate files (not the links). */
async function liveCerts(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(dir, 'test/cert'), { withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    out.push(createHash('sha256').update(await fs.readFile(path.join(dir, 'test/cert', entry.name))).digest('hex').slice(0, 16));
  }
  return out.sort();
}

/** Deployment problems: a live certificate not deployed exactly once, or any certificate deployed twice. */
async function deployProblems(dir: string, log: string): Promise<string[]> {
  const deployed = (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const d of deployed) seen.set(d, (seen.get(d) ?? 0) + 1);
  for (const [fp, n] of seen) if (n > 1) problems.push(`${fp} deployed ${n} times`);
  for (const fp of await liveCerts(dir)) if (!seen.has(fp)) problems.push(`live certificate ${fp} never deployed`);
  return problems;
}

/** actions.conf: a prepare that stays up (found by `nonce`), and an update logging each certificate's fingerprint. */
function actions(log: string, nonce: string): string {
  return '[default]\n' +
    `prepare: ["sleep 1000.${nonce}"]\n` +
    `update: ["for c in $CERTFLEET_CERTS; do sha256sum $c | cut -c1-16 >> ${log}; done"]\n`;
}

const FORCE_RENEWAL = 'generateNewCertsAfterDays: 0.00001\nalwaysGenerateNewKeys: yes';

test('a first issuance killed before each file-system call: the next run leaves a complete store, each certificate deployed once', async () => {
  const z = rand();
  const lines = [[`a${z}.example.com`, `www.a${z}.example.com`]];
  const nonce = String(Date.now() % 100000);
  const fresh = async () => {
    const conf = await makeConfDir(fx.servers, { domains: `${lines[0]![0]} www\n` });
    const log = path.join(path.dirname(conf), 'deployed.log');
    await fs.writeFile(path.join(path.dirname(conf), 'actions.conf'), actions(log, nonce));
    return { conf, dir: path.dirname(conf), log };
  };
  const probe = await fresh();
  const counted = await runHooked(['--test', '--config', probe.conf], fx.env);
  assert.equal(counted.code, 0, counted.stderr);
  assert.ok(counted.calls > 20, `counted ${counted.calls} calls`);
  const points = samplePoints(counted.calls, 8);
  for (const at of points) {
    const { conf, dir, log } = await fresh();
    const killed = await runHooked(['--test', '--config', conf], fx.env, at);
    const next = await runCertfleet(['--test', '--config', conf], { env: fx.env });
    assert.equal(next.code, 0, `killed at call ${at} (${killed.signal}): ${next.stderr}`);
    assert.deepEqual(await storeProblems(dir, lines), [], `killed at call ${at} of ${counted.calls}`);
    assert.deepEqual(await deployProblems(dir, log), [], `killed at call ${at} of ${counted.calls}`);
    assert.deepEqual(processesWith(`sleep 1000.${nonce}`), [], `killed at call ${at}: no prepare process survives`);
    assert.deepEqual((await fs.readdir(fx.servers.dropDir)).filter((f) => f !== '.gitkeep'), [], `killed at call ${at}: drop dir clean`);
  }
});

test('renewals killed before each file-system call (SIGKILL and SIGTERM): every installed certificate is deployed exactly once', async () => {
  const z = rand();
  const lines = [[`r${z}.example.com`, `www.r${z}.example.com`], [`s${z}.example.com`]];
  const conf = await makeConfDir(fx.servers, { domains: `${lines[0]![0]} www\n${lines[1]![0]}\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'deployed.log');
  const nonce = String((Date.now() % 100000) + 1);
  await fs.writeFile(path.join(dir, 'actions.conf'), actions(log, nonce));
  const plain = await fs.readFile(conf, 'utf8');
  const renewing = plain.replace('reauthorizeDays: 30\n', `reauthorizeDays: 30\n${FORCE_RENEWAL}\n`);
  const first = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(first.code, 0, first.stderr);

  await fs.writeFile(conf, renewing);
  const counted = await runHooked(['--test', '--config', conf], fx.env);
  assert.equal(counted.code, 0, counted.stderr);
  const points = samplePoints(counted.calls, 10);
  for (const [i, at] of points.entries()) {
    const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
    await fs.writeFile(conf, renewing);
    await runHooked(['--test', '--config', conf], fx.env, at, signal);
    // The converging run renews nothing (its certificates are fresh): it completes what was cut short.
    await fs.writeFile(conf, plain);
    const next = await runCertfleet(['--test', '--config', conf], { env: fx.env });
    const where = `${signal} at call ${at} of ${counted.calls}`;
    assert.equal(next.code, 0, `${where}: ${next.stderr}`);
    assert.deepEqual(await storeProblems(dir, lines), [], where);
    assert.deepEqual(await deployProblems(dir, log), [], where);
    assert.deepEqual(processesWith(`sleep 1000.${nonce}`), [], `${where}: no prepare process survives`);
  }
  const deployed = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean);
  assert.ok(new Set(deployed).size > 4, `renewals were installed and deployed (${deployed.length})`);
});
