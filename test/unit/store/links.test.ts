import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certPaths } from '../../../src/store/layout.ts';
import { ownLinks } from '../../../src/store/link-owners.ts';
import { classifyLink, inspectLinks, placeLinks } from '../../../src/store/links.ts';

test('classifyLink: only a link to the exact target is sound', () => {
  assert.equal(classifyLink('t.pem', { kind: 'symlink', points: 't.pem' }), null);
  assert.deepEqual(classifyLink('t.pem', { kind: 'symlink', points: 'other.pem' }), { found: 'elsewhere', points: 'other.pem' });
  assert.deepEqual(classifyLink('t.pem', { kind: 'symlink', points: '/abs/t.pem' }), { found: 'elsewhere', points: '/abs/t.pem' });
  assert.deepEqual(classifyLink('t.pem', { kind: 'missing' }), { found: 'missing' });
  assert.deepEqual(classifyLink('t.pem', { kind: 'file' }), { found: 'file' });
  assert.deepEqual(classifyLink('t.pem', { kind: 'other', what: 'a directory' }), { found: 'blocked', points: 'a directory' });
});

test("ownLinks: a line's own file is never a link; the first line naming a name owns its link", () => {
  const naming = { configDir: '/c', mode: 'prod' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
  const multi = certPaths(['a.com', 'www.a.com', 'mail.a.com'], 'rsa', naming);
  const single = certPaths(['www.a.com'], 'rsa', naming);
  const later = certPaths(['b.com', 'mail.a.com'], 'rsa', naming);
  const [m, s, l] = ownLinks([multi, single, later].map((paths) => ({ keyType: 'rsa' as const, paths })));
  const linkNames = (p: typeof multi) => p.links.map((x) => path.basename(x.path));
  assert.deepEqual(linkNames(m), ['a.com-key.rsa2048.pem', 'a.com-cert-combined.rsa2048.pem', 'mail.a.com-key.rsa2048.pem', 'mail.a.com-cert-combined.rsa2048.pem'], 'www.a.com is a line of its own');
  assert.deepEqual(s.links, []);
  assert.deepEqual(linkNames(l), ['b.com-key.rsa2048.pem', 'b.com-cert-combined.rsa2048.pem'], 'mail.a.com belongs to the first line naming it');
  assert.equal(ownLinks([{ keyType: 'rsa', paths: multi }])[0], multi, 'unchanged paths are returned as they are');
  const ec = certPaths(['www.a.com'], 'ec', naming);
  assert.equal(ownLinks([{ keyType: 'rsa', paths: multi }, { keyType: 'ec', paths: ec }])[0].links.length, 6, "an EC line's file is not an RSA link's path");
});

test('placeLinks: re-points, creates, moves a stray file aside, leaves a directory and a missing target alone', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certfleet-links-'));
  try {
    const state = path.join(dir, '.certfleet');
    await fs.writeFile(path.join(dir, 'own.pem'), 'own');
    await fs.writeFile(path.join(dir, 'other.pem'), 'other');
    const link = (name: string, target = 'own.pem') => ({ path: path.join(dir, name), target });
    await fs.symlink('other.pem', path.join(dir, 'elsewhere.pem'));
    await fs.symlink('gone.pem', path.join(dir, 'dangling.pem'));
    await fs.symlink('own.pem', path.join(dir, 'sound.pem'));
    await fs.writeFile(path.join(dir, 'stray.pem'), 'stray');
    await fs.mkdir(path.join(dir, 'dir.pem'));
    const links = [link('elsewhere.pem'), link('dangling.pem'), link('sound.pem'), link('missing.pem'), link('stray.pem'), link('dir.pem'), link('nowhere.pem', 'absent.pem')];

    assert.deepEqual(
      inspectLinks(links).map((f) => `${path.basename(f.path)} ${f.found}`),
      ['elsewhere.pem elsewhere', 'dangling.pem elsewhere', 'missing.pem missing', 'stray.pem file', 'dir.pem blocked', 'nowhere.pem missing'],
    );
    const { changes, warnings } = await placeLinks(links, state);
    assert.equal(changes.length, 4, changes.join('\n'));
    assert.match(changes[0], /elsewhere\.pem → own\.pem \(pointed to other\.pem\)/);
    assert.match(changes[3], /stray\.pem → own\.pem \(was a stray file, moved to .*displaced/);
    for (const name of ['elsewhere.pem', 'dangling.pem', 'sound.pem', 'missing.pem', 'stray.pem']) {
      assert.equal(await fs.readlink(path.join(dir, name)), 'own.pem', name);
    }
    const [aside] = await fs.readdir(path.join(state, 'displaced'));
    assert.equal(await fs.readFile(path.join(state, 'displaced', aside), 'utf8'), 'stray', 'the stray file is kept');
    assert.equal((await fs.stat(path.join(state, 'displaced'))).mode & 0o777, 0o700);
    assert.ok((await fs.stat(path.join(dir, 'dir.pem'))).isDirectory(), 'a directory is left alone');
    assert.ok(warnings.some((w) => /dir\.pem alone: it is a directory/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /moved .*stray\.pem to /.test(w)), warnings.join('\n'));
    assert.equal(await fs.lstat(path.join(dir, 'nowhere.pem')).catch(() => null), null, 'no link to a missing target');
    assert.deepEqual(inspectLinks(links.slice(0, 5)), [], 'all sound now');
    assert.deepEqual(await placeLinks(links.slice(0, 5), state), { changes: [], warnings: [] }, 'a second pass changes nothing');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
