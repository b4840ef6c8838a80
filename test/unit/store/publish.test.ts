import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stage, MODE_PUBLIC } from '../../../src/store/atomic.ts';
import { PublishBlockedError, publishTogether, recoverPublishes } from '../../../src/store/publish.ts';

async function store() {
  const root = await mkdtemp(path.join(tmpdir(), 'certfleet-publish-'));
  const dirs = { key: path.join(root, 'key'), cert: path.join(root, 'cert'), state: path.join(root, '.certfleet') };
  for (const d of Object.values(dirs)) await fs.mkdir(d, { recursive: true });
  const key = path.join(dirs.key, 'a-key.pem');
  const cert = path.join(dirs.cert, 'a-cert.pem');
  const link = path.join(dirs.cert, 'www.a-cert.pem');
  return { root, dirs, key, cert, link };
}

describe('publish journal', () => {
  it('installs files and links, then records what is owed, once', async () => {
    const s = await store();
    const owed: unknown[] = [];
    const moves = [{ from: await stage(s.key, 'K', MODE_PUBLIC), to: s.key }, { from: await stage(s.cert, 'C', MODE_PUBLIC), to: s.cert }];
    const warnings = await publishTogether(s.dirs.state, { moves, links: [{ path: s.link, target: 'a-cert.pem' }], owed: { deploy: 1 } }, async (o) => void owed.push(o));
    assert.deepEqual(warnings, []);
    assert.equal(await fs.readFile(s.link, 'utf8'), 'C');
    assert.deepEqual(owed, [{ deploy: 1 }]);
    assert.deepEqual(await fs.readdir(s.dirs.state), [], 'journal removed');
  });

  it('a journal left by a crash is completed with its links and its owed record', async () => {
    const s = await store();
    const moves = [{ from: await stage(s.key, 'K2', MODE_PUBLIC), to: s.key }, { from: await stage(s.cert, 'C2', MODE_PUBLIC), to: s.cert }];
    // As a crash right after the journal and the first rename left it.
    await fs.writeFile(path.join(s.dirs.state, 'publish-0123456789abcdef.json'), JSON.stringify({ version: 2, moves, links: [{ path: s.link, target: 'a-cert.pem' }], owed: ['x'] }));
    await fs.rename(moves[0]!.from, s.key);
    const owed: unknown[] = [];
    const r = await recoverPublishes(s.dirs.state, async (o) => void owed.push(o), new Date());
    assert.deepEqual(r.completed, [s.key, s.cert]);
    assert.deepEqual(owed, [['x']]);
    assert.equal(await fs.readFile(s.key, 'utf8'), 'K2');
    assert.equal(await fs.readFile(s.link, 'utf8'), 'C2');
    assert.deepEqual(await fs.readdir(s.dirs.state), []);
  });

  it('a blocked target moves nothing; recovery keeps the journal and its staged files', async () => {
    const s = await store();
    await fs.writeFile(s.cert, 'OLD');
    await fs.mkdir(s.key);
    const moves = [{ from: await stage(s.key, 'K', MODE_PUBLIC), to: s.key }, { from: await stage(s.cert, 'C', MODE_PUBLIC), to: s.cert }];
    await assert.rejects(publishTogether(s.dirs.state, { moves, links: [], owed: null }, async () => assert.fail('nothing installed')),
      (err: Error) => err instanceof PublishBlockedError && /a-key\.pem is a directory/.test(err.message));
    assert.equal(await fs.readFile(s.cert, 'utf8'), 'OLD', 'the certificate was not moved either');
    assert.deepEqual(await fs.readdir(s.dirs.state), [], 'no journal left to complete it with files gone');

    await fs.writeFile(path.join(s.dirs.state, 'publish-0123456789abcdef.json'), JSON.stringify({ version: 2, moves, links: [], owed: null }));
    const r = await recoverPublishes(s.dirs.state, async () => assert.fail('nothing installed'), new Date());
    assert.equal(r.blocked.length, 1);
    assert.deepEqual([...r.keep].sort(), moves.map((m) => m.from).sort());
    assert.deepEqual(await fs.readdir(s.dirs.state), ['publish-0123456789abcdef.json']);
  });

  it('a garbage journal is set aside with a warning, and moves nothing', async () => {
    const s = await store();
    const file = path.join(s.dirs.state, 'publish-0123456789abcdef.json');
    for (const text of ['garbage', JSON.stringify({ moves: [{ from: '/etc/passwd', to: s.key }] })]) {
      await fs.writeFile(file, text);
      const r = await recoverPublishes(s.dirs.state, async () => assert.fail('nothing installed'), new Date('2026-05-06T07:08:09Z'));
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, /kept as .*publish-0123456789abcdef\.json\.damaged-20260506T070809Z/);
      await assert.rejects(fs.stat(s.key));
      await fs.rm(`${file}.damaged-20260506T070809Z`);
    }
  });
});
