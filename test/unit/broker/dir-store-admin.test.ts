/**
 * The embedded store opened in admin mode (`broker enroll`, `remove`, `status` beside a serving
 * broker): it must leave other writers' temp files alone, so enrollments run at once all land;
 * the lock holder's open still sweeps what a crashed writer left.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDirStore } from '../../../src/broker/store/dir-store.ts';
import { device } from '../../support/broker-records.ts';

const TEMP = '.d9.json.tmp-0123abcd'; // what writeAtomic names a temp file

test('an admin open leaves temp files alone; the locking open sweeps them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-dir-store-'));
  try {
    await (await openDirStore(dir)).close();
    await writeFile(join(dir, 'devices', TEMP), '{"id":"d9"');
    const admin = await openDirStore(dir, { admin: true });
    await admin.close();
    assert.deepEqual(await readdir(join(dir, 'devices')), [TEMP], 'an in-flight write of another command survives');
    const serving = await openDirStore(dir);
    await serving.close();
    assert.deepEqual(await readdir(join(dir, 'devices')), [], 'a crashed writer\'s temp file is swept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('enrollments from several admin opens at once all land', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-dir-store-'));
  try {
    await (await openDirStore(dir)).close();
    await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const store = await openDirStore(dir, { admin: true });
      try {
        await store.putDevice(device(`d${i}`));
      } finally {
        await store.close();
      }
    }));
    const store = await openDirStore(dir, { admin: true });
    assert.deepEqual((await store.listDevices()).map((d) => d.id).sort(), ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
