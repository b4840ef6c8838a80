import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ProcessRegistry } from '../../../src/process/process-registry.ts';
import { groupAlive } from '../../../src/process/process-group.ts';
import { tempDir } from '../actions/support.ts';

describe('ProcessRegistry', () => {
  it('stops a recorded group a dead run left, and leaves a recycled pid alone', async () => {
    const reg = new ProcessRegistry(path.join(await tempDir(), 'running'));
    const ours = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const other = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    try {
      await reg.add(ours.pid!, 'ours');
      // A record of `other`'s pid from an earlier process of that pid (another start time).
      await fs.writeFile(path.join(reg.dir, `${other.pid}.json`), JSON.stringify({ pgid: other.pid, started: '1', command: 'recycled' }));
      const stopped = await reg.stopLeftovers(2000);
      assert.deepEqual(stopped, [`ours (process group ${ours.pid})`]);
      assert.equal(groupAlive(ours.pid!), false);
      assert.equal(groupAlive(other.pid!), true, 'a recycled pid is not ours');
      assert.deepEqual(await fs.readdir(reg.dir), []);
    } finally {
      for (const c of [ours, other]) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
  });
});
