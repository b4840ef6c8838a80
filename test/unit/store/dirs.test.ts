import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, chmod, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDir, ensureModeTree } from '../../../src/store/dirs.ts';
import { looseModes } from '../../../src/store/tree-check.ts';
import { WARNED_FILE, WarnedRecord, warningId } from '../../../src/store/warned.ts';

const modeOf = async (p: string) => (await stat(p)).mode & 0o7777;

describe('directories with explicit modes, the loose-tree check, the record of warnings', () => {
  let dir: string;
  let umask: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certfleet-dirs-'));
    umask = process.umask();
  });
  after(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  for (const mask of [0o000, 0o077, 0o022]) {
    it(`makes a mode tree with its modes under umask ${mask.toString(8).padStart(3, '0')}`, async () => {
      process.umask(mask);
      try {
        const root = join(dir, `u${mask}`, 'test');
        await ensureModeTree({ key: join(root, 'key'), csr: join(root, 'csr'), cert: join(root, 'cert'), state: join(root, '.certfleet') });
        assert.deepEqual(
          await Promise.all([join(dir, `u${mask}`), root, join(root, 'key'), join(root, 'csr'), join(root, 'cert'), join(root, '.certfleet')].map(modeOf)),
          [0o755, 0o755, 0o750, 0o755, 0o755, 0o700],
        );
      } finally {
        process.umask(umask);
      }
    });
  }

  it('leaves an existing directory alone and refuses a file in the way', async () => {
    const existing = join(dir, 'existing');
    await ensureDir(existing, 0o700);
    await chmod(existing, 0o775);
    await ensureDir(existing, 0o700);
    assert.equal(await modeOf(existing), 0o775);
    await writeFile(join(dir, 'file'), '');
    await assert.rejects(ensureDir(join(dir, 'file'), 0o755), /exists and is not a directory/);
  });

  it('names each path its group or others may write to, and nothing else', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n));
    await ensureDir(a!, 0o755);
    await ensureDir(b!, 0o775);
    await chmod(b!, 0o775);
    await writeFile(c!, '');
    await chmod(c!, 0o666);
    assert.deepEqual(await looseModes([a!, b!, c!, join(dir, 'missing')]), [
      `${b} is writable by its group (mode 0775), who could replace what certfleet reads or serves; chmod go-w ${b}`,
      `${c} is writable by its group and every user (mode 0666), who could replace what certfleet reads or serves; chmod go-w ${c}`,
    ]);
  });

  it('remembers the warnings given, forgets those no longer given, writes only on change (0600)', async () => {
    const state = join(dir, 'state', '.certfleet');
    const one = warningId('cert', '2030-01-01', 'too wide');
    assert.notEqual(one, warningId('cert', '2030-01-02', 'too wide'));
    const empty = await WarnedRecord.load(state);
    assert.equal(empty.has(one), false);
    await empty.save(new Set());
    await assert.rejects(stat(join(state, WARNED_FILE)), { code: 'ENOENT' }, 'nothing to record: nothing written');
    await empty.save(new Set([one]));
    assert.equal(await modeOf(join(state, WARNED_FILE)), 0o600);
    assert.equal(await modeOf(state), 0o700);
    const again = await WarnedRecord.load(state);
    assert.equal(again.has(one), true);
    const before = (await stat(join(state, WARNED_FILE))).ino;
    await again.save(new Set([one]));
    assert.equal((await stat(join(state, WARNED_FILE))).ino, before, 'unchanged: not rewritten');
    await again.save(new Set());
    assert.equal((await WarnedRecord.load(state)).has(one), false);
    await writeFile(join(state, WARNED_FILE), '{not json');
    assert.equal((await WarnedRecord.load(state)).has(one), false, 'a damaged record is empty');
    assert.ok((await readFile(join(state, WARNED_FILE), 'utf8')).length > 0);
  });
});
