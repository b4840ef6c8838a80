// Modes of what a run creates, whatever the umask, and what other users can reach (issue 12 and
// issue 11's directory modes). The built binary against Pebble + nginx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { certfleetBin, makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');

/** Runs bin/certfleet through `/bin/sh -c 'umask U; exec …'`, so the run starts with that umask. */
function runWithUmask(umask: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...fx.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', `umask ${umask}; exec "$0" "$@"`, certfleetBin, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Every path under `dir` (relative), with its type and permission bits; symlinks are not followed. */
async function tree(dir: string, rel = ''): Promise<Map<string, { type: 'dir' | 'file' | 'link'; mode: number }>> {
  const out = new Map<string, { type: 'dir' | 'file' | 'link'; mode: number }>();
  for (const name of await fs.readdir(path.join(dir, rel))) {
    const p = path.join(rel, name);
    const st = await fs.lstat(path.join(dir, p));
    const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    out.set(p, { type, mode: st.mode & 0o7777 });
    if (type === 'dir') for (const [k, v] of await tree(dir, p)) out.set(k, v);
  }
  return out;
}

/** The mode every path a run creates must have, by where it is. */
function expectedMode(p: string, type: 'dir' | 'file'): number {
  if (type === 'dir') return ({ test: 0o755, 'test/cert': 0o755, 'test/csr': 0o755, 'test/key': 0o750, 'test/.certfleet': 0o700, 'test/.certfleet/challenges': 0o700, 'test/.certfleet/running': 0o700 } as Record<string, number>)[p] ?? -1;
  if (p.startsWith('test/key/')) return 0o600;
  if (p.startsWith('test/.certfleet/')) return 0o600;
  if (p.startsWith('test/cert/') || p.startsWith('test/csr/')) return 0o644;
  return -1;
}

for (const umask of ['000', '077']) {
  test(`under umask ${umask}, every directory and file a run creates gets its documented mode`, async () => {
    const a = `u${umask}${rand()}.example.com`;
    const conf = await makeConfDir(fx.servers, { domains: `${a} www\n`, actions: '[default]\nupdate: ["true"]\n' });
    const dir = path.dirname(conf);
    const before = new Set((await tree(dir)).keys());
    const res = await runWithUmask(umask, ['--test', '--config', conf, '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });
    const created = [...(await tree(dir))].filter(([p]) => !before.has(p) && p !== '.certfleet.lock');
    const kinds = new Set(created.map(([p, e]) => `${path.dirname(p)}:${e.type}`));
    for (const want of ['.:dir', 'test:dir', 'test/key:file', 'test/cert:file', 'test/csr:file', 'test/.certfleet:file', 'test/cert:link', 'test/key:link']) {
      assert.ok(kinds.has(want), `the run created a ${want}: ${[...kinds].join(', ')}`);
    }
    const wrong = created
      .filter(([, e]) => e.type !== 'link')
      .filter(([p, e]) => e.mode !== expectedMode(p, e.type as 'dir' | 'file'))
      .map(([p, e]) => `${p} ${e.type} ${e.mode.toString(8)}`);
    assert.deepEqual(wrong, [], `created with other modes than documented (umask ${umask})`);
    await fs.rm(dir, { recursive: true, force: true });
  });
}

test('a fresh conf dir: another user reaches prod/cert and its certificates, not the keys; a loose tree is warned about', async () => {
  const a = `other${rand()}.example.com`;
  const conf = await makeConfDir(fx.servers, { domains: `${a}\n` });
  const dir = path.dirname(conf);
  await fs.chmod(dir, 0o755); // mkdtemp made it 0700; a conf dir others may enter
  const res = await runCertfleet(['--prod', '--config', conf], { env: fx.env });
  assert.equal(res.code, 0, res.stderr);
  const cert = path.join(dir, 'prod/cert', `${a}-cert-combined.rsa2048.pem`);
  const key = path.join(dir, 'prod/key', `${a}-key.rsa2048.pem`);
  const asNobody = (...cmd: string[]) =>
    new Promise<{ ok: boolean; out: string }>((resolve) => {
      execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...cmd], (err, stdout, stderr) => resolve({ ok: !err, out: stdout + stderr }));
    });
  const read = await asNobody('cat', cert);
  assert.ok(read.ok, `nobody can read ${cert}: ${read.out}`);
  assert.match(read.out, /-----BEGIN CERTIFICATE-----/);
  assert.ok((await asNobody('ls', path.join(dir, 'prod/cert'))).ok, 'nobody can list prod/cert');
  const denied = await asNobody('cat', key);
  assert.ok(!denied.ok, `nobody cannot read the key: ${denied.out}`);
  assert.match(denied.out, /Permission denied/);

  // Loosened by hand: every run says so, also under --cron, and changes nothing else.
  await fs.chmod(path.join(dir, 'prod/cert'), 0o777);
  await fs.chmod(path.join(dir, 'actions.conf'), 0o664);
  const quiet = await runCertfleet(['--prod', '--config', conf, '--cron'], { env: fx.env });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, new RegExp(`^> warning: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/prod/cert is writable by its group and every user \\(mode 0777\\)`, 'm'));
  assert.match(quiet.stderr, /actions\.conf is writable by its group \(mode 0664\)/);
  assert.equal((await fs.stat(path.join(dir, 'prod/cert'))).mode & 0o777, 0o777, 'an existing directory is not chmod-ed behind the user\'s back');
  await fs.rm(dir, { recursive: true, force: true });
});
