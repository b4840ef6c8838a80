import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireRunLock, LockBusyError } from '../../../src/store/lock.ts';
import { startTime } from '../../../src/process/process-identity.ts';

async function deadPid(): Promise<number> {
  const child = spawn('/bin/true');
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

describe('run lock', () => {
  it('one holder; a second waiter gets LockBusyError naming the holder; release frees it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-lock-'));
    const held = await acquireRunLock(dir, 0);
    await assert.rejects(acquireRunLock(dir, 150), (err: Error) => err instanceof LockBusyError && err.holderPid === process.pid);
    await held.release();
    await (await acquireRunLock(dir, 0)).release();
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it('stale claims are removed: a dead pid, and a live pid whose start time differs (recycled)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-lock-'));
    const dead = await deadPid();
    await fs.writeFile(path.join(dir, `.certfleet.lock-${dead}-1-0badc0de`), '');
    await fs.writeFile(path.join(dir, `.certfleet.lock-${process.ppid}-1-0badc0de`), '');
    await fs.writeFile(path.join(dir, '.certfleet.lock'), `${dead}\n`);
    const held = await acquireRunLock(dir, 0);
    assert.deepEqual((await fs.readdir(dir)).length, 1);
    await held.release();
  });

  it('a live claim (this pid, its real start time) is honoured', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'certfleet-lock-'));
    await fs.writeFile(path.join(dir, `.certfleet.lock-${process.ppid}-${startTime(process.ppid)}-0badc0de`), '');
    await assert.rejects(acquireRunLock(dir, 100), LockBusyError);
  });
});
