import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsCallHook } from '../../support/kill-points.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

test('six processes racing for a stale lock, 72 takeovers: never two holders', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-lockrace-'));
  const log = path.join(dir, 'holders.log');
  const dead = spawn('/bin/true');
  await new Promise((r) => dead.on('close', r));
  await fs.writeFile(path.join(dir, '.certfleet.lock'), `${dead.pid}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, CERTFLEET_LOCK_JITTER_MS: '15' };
  delete env.NODE_TEST_CONTEXT;
  const racers = Array.from({ length: 6 }, () => new Promise<number | null>((resolve) => {
    // Every file-system call on a lock path waits a random 0-15 ms (the fs hook): it widens races.
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', fsCallHook, path.join(here, 'lock-racer.ts'), dir, log, '12', String(dead.pid)],
      { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', resolve);
  }));
  assert.deepEqual(await Promise.all(racers), [0, 0, 0, 0, 0, 0]);
  const lines = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean);
  assert.equal(lines.length, 6 * 12 * 2);
  let inside = 0;
  for (const [i, line] of lines.entries()) {
    inside += line.startsWith('enter') ? 1 : -1;
    assert.ok(inside <= 1, `two holders at line ${i + 1}: ${lines.slice(Math.max(0, i - 3), i + 1).join(' | ')}`);
  }
});
