// Interrupted and overlapping runs, with the built binary against Pebble: six runs racing for a
// stale lock, a run killed while its update sleeps, and runs killed (SIGKILL) or stopped
// (SIGTERM) during validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { certfleetBin, makeConfDir, runCertfleet } from '../support/servers.ts';
import { fsCallHook, processesWith } from '../support/kill-points.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts certfleet (own process group left alone, as a real kill of it would leave its actions). */
function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const e: NodeJS.ProcessEnv = { ...process.env, ...fx.env, ...env };
  delete e.NODE_TEST_CONTEXT;
  const child = spawn(certfleetBin, args, { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString('utf8') })));
  return { child, done };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A pid that is certainly dead (a process that ran and exited). */
async function deadPid(): Promise<number> {
  const child = spawn('/bin/true');
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

/** Intervals [enter, leave] from a log of `enter <ns>` / `leave <ns>` lines, one run at a time if the lock holds. */
function overlaps(lines: string[]): string[] {
  const problems: string[] = [];
  let inside = 0;
  for (const line of lines) {
    if (line.startsWith('enter')) inside++;
    if (line.startsWith('leave') || line.startsWith('killed')) inside--;
    if (inside > 1) problems.push(`two holders at: ${line}`);
  }
  return problems;
}

test('six runs racing for a stale lock, many rounds: never two holders', async () => {
  const conf = await makeConfDir(fx.servers, { domains: `lk${rand()}.example.com\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'holders.log');
  // An update that always fails stays owed, so every run runs it while holding the lock.
  // The log is appended with whole lines (O_APPEND), one per event, in the order they happen.
  await fs.writeFile(path.join(dir, 'actions.conf'),
    `[default]\nupdate: ["echo enter $(date +%%s%%N) >> ${log}; sleep 0.05; echo leave $(date +%%s%%N) >> ${log}; exit 1"]\n`);
  const first = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(first.code, 1, first.stderr);
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    const dead = await deadPid();
    // Stale locks of both kinds: an earlier version's, and a claim of a dead run.
    await fs.writeFile(path.join(dir, '.certfleet.lock'), `${dead}\n`);
    await fs.writeFile(path.join(dir, `.certfleet.lock-${dead}-12345-0badc0de`), '');
    // Every file-system call on a lock path is slowed by a random pause, which widens the races.
    const runs = Array.from({ length: 6 }, () => start(['--test', '--config', conf], {
      CERTFLEET_LOCK_WAIT_MS: '60000',
      NODE_OPTIONS: `--import=${fsCallHook}`,
      CERTFLEET_LOCK_JITTER_MS: '40',
    }));
    const ends = await Promise.all(runs.map((r) => r.done));
    for (const e of ends) assert.equal(e.code, 1, `round ${round}: every run got the lock in turn and ran the failing update\n${e.stderr}`);
  }
  const lines = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean);
  assert.equal(lines.filter((l) => l.startsWith('enter')).length, 1 + rounds * 6);
  assert.deepEqual(overlaps(lines), []);
  assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes('lock')), [], 'every lock released');
});

test('a run killed while its update sleeps: the next run stops it before its own update, and no prepare process survives', async () => {
  const z = rand();
  const nonce = `${Date.now() % 100000}.${Math.floor(Math.random() * 1000)}`;
  const conf = await makeConfDir(fx.servers, { domains: `up${z}.example.com\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'update.log');
  await fs.writeFile(path.join(dir, 'actions.conf'), '[default]\n' +
    `prepare: ["sleep 1000${nonce}"]\n` +
    `update: ["echo enter $(date +%%s%%N) >> ${log}; trap 'echo killed $(date +%%s%%N) >> ${log}; exit 143' TERM; if [ ! -e ${log}.slept ]; then touch ${log}.slept; sleep 30 & wait; fi; echo leave $(date +%%s%%N) >> ${log}"]\n`);
  // First run: killed while its prepare runs (during the request).
  const one = start(['--test', '--config', conf]);
  await waitFor('prepare', async () => processesWith(`sleep 1000${nonce}`).length > 0);
  one.child.kill('SIGKILL');
  await one.done;
  assert.equal(processesWith(`sleep 1000${nonce}`).length, 1, 'the prepare outlived the killed run');
  // Second run: stops that prepare, issues, and is killed while its update sleeps.
  const two = start(['--test', '--config', conf]);
  await waitFor('update', async () => (await fs.readFile(log, 'utf8').catch(() => '')).includes('enter'), 60_000);
  assert.deepEqual(processesWith(`sleep 1000${nonce}`), [], 'the next run stopped the prepare a dead run left');
  two.child.kill('SIGKILL');
  await two.done;
  // Third run: stops the update left running, then runs it again (it never finished).
  const three = await runCertfleet(['--test', '--config', conf], { env: fx.env });
  assert.equal(three.code, 0, three.stderr);
  assert.match(three.stderr, /stopped what an interrupted run left running: .*trap/);
  const lines = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean);
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['enter', 'killed', 'enter', 'leave'], lines.join('\n'));
  assert.deepEqual(overlaps(lines), []);
  assert.deepEqual(processesWith(`sleep 1000${nonce}`), []);
});

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`a run ${signal === 'SIGKILL' ? 'killed' : 'stopped with SIGTERM'} during http-01 validation: the drop dir ends as it was before`, async () => {
    const drop = fx.servers.dropDir;
    const before = (await fs.readdir(drop)).sort();
    const conf = await makeConfDir(fx.servers, { domains: `v${rand()}.example.com www\n` });
    const run = start(['--test', '--config', conf]);
    let token = '';
    await waitFor('a token file', async () => {
      token = (await fs.readdir(drop)).find((f) => !before.includes(f) && !f.startsWith('.')) ?? '';
      return token !== '';
    });
    const stoppedAt = Date.now();
    run.child.kill(signal);
    const end = await run.done;
    if (signal === 'SIGTERM') {
      // Stopped promptly, having removed its own token files and temp files on the way out.
      assert.equal(end.code, 143, end.stderr);
      assert.ok(Date.now() - stoppedAt < 5000, `stopped after ${Date.now() - stoppedAt} ms`);
      assert.deepEqual((await fs.readdir(drop)).sort(), before, end.stderr);
    } else {
      assert.ok((await fs.readdir(drop)).includes(token), 'SIGKILL allows no cleanup: the token stays until the next run');
    }
    const next = await runCertfleet(['--test', '--config', conf], { env: fx.env });
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual((await fs.readdir(drop)).sort(), before, next.stderr);
    assert.deepEqual(await fs.readdir(path.join(path.dirname(conf), 'test/.certfleet/challenges')), [], 'no challenge record left');
  });
}
