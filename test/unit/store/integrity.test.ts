// The facts cache read with suspicion, and what observation says about damage beyond the leaf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FactsCache } from '../../../src/store/facts-cache.ts';
import { observeKeyAndCert, resolvePaths } from '../../../src/store/observe.ts';
import { makeCa, makeLeaf, pemOf } from '../../support/test-ca.ts';

const spec = { kind: 'ec', curve: 'prime256v1' } as const;

async function withStore(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certfleet-integrity-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('a damaged facts cache is discarded whole; another version silently; facts of a wrong shape are parsed again', async () => {
  await withStore(async (dir) => {
    const file = path.join(dir, 'facts.json');
    const load = async (text: string) => {
      await fs.writeFile(file, text);
      return FactsCache.load(file);
    };
    const guard = (f: unknown): f is { a: number } => typeof (f as { a?: unknown }).a === 'number';
    assert.equal((await load('{"version": 3, "entr')).discarded, 'not JSON');
    assert.equal((await load('[]')).discarded, 'not a JSON object');
    assert.equal((await load('{"version": 3, "entries": []}')).discarded, '"entries" is not an object');
    const wrong = await load('{"version": 3, "entries": {"k": {"sig": 5, "facts": {}}}}');
    assert.match(wrong.discarded ?? '', /entry "k" has the wrong shape/);
    assert.equal(wrong.get('k', '5', guard), undefined);
    await wrong.save();
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { version: 3, entries: {} }, 'rewritten clean');

    const old = await load('{"version": 2, "entries": {"k": {"sig": "s", "facts": {"a": 1}}}}');
    assert.equal(old.discarded, null, 'another version is not damage');
    assert.equal(old.get('k', 's', guard), undefined);

    const ok = await load('{"version": 3, "entries": {"k": {"sig": "s", "facts": {"a": 1}}, "j": {"sig": "s", "facts": {"a": "1"}}}}');
    assert.equal(ok.discarded, null);
    assert.deepEqual(ok.get('k', 's', guard), { a: 1 });
    assert.equal(ok.get('k', 't', guard), undefined, 'another signature');
    assert.equal(ok.get('j', 's', guard), undefined, 'facts of the wrong shape are never served');
    assert.equal(ok.get('constructor', 's', guard), undefined);
  });
});

test('observation: the whole chain, cached only while the file is unchanged; wrong cached facts ignored; a directory blocks', async () => {
  await withStore(async (dir) => {
    const naming = { configDir: dir, mode: 'test' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
    const paths = await resolvePaths(['a.example.com', 'www.a.example.com'], 'ec', naming);
    await fs.mkdir(path.dirname(paths.key), { recursive: true });
    await fs.mkdir(path.dirname(paths.cert), { recursive: true });
    const inter = await makeCa('CN=intermediate', await makeCa('CN=root'));
    const leaf = await makeLeaf(inter, ['a.example.com', 'www.a.example.com']);
    await fs.writeFile(paths.key, leaf.keyPem, { mode: 0o600 });
    await fs.writeFile(paths.cert, pemOf(leaf.cert, inter.cert));
    for (const l of paths.links) await fs.symlink(l.target, l.path);
    const cacheFile = path.join(dir, 'test/.certfleet/facts.json');
    const observe = async () => {
      const cache = await FactsCache.load(cacheFile);
      const obs = await observeKeyAndCert(paths, spec, cache);
      await cache.save();
      return obs;
    };

    const first = await observe();
    assert.equal(first.cert.state, 'ok');
    assert.deepEqual(first.integrity, { blocked: null, chain: null, links: [] });
    assert.deepEqual((await observe()).integrity, { blocked: null, chain: null, links: [] }, 'from the cache');

    // Garbage appended in place: size and mtime change, so the cache no longer vouches for it.
    await fs.appendFile(paths.cert, 'garbage\n');
    assert.match((await observe()).integrity?.chain ?? '', /text that is not a certificate after certificate 2/);
    await fs.writeFile(paths.cert, pemOf(leaf.cert));
    assert.match((await observe()).integrity?.chain ?? '', /no intermediate/);
    await fs.writeFile(paths.cert, pemOf(leaf.cert, inter.cert));
    assert.equal((await observe()).integrity?.chain, null);

    // Cached facts of the wrong types (a hand-edited cache): parsed again, the run goes on.
    const data = JSON.parse(await fs.readFile(cacheFile, 'utf8'));
    for (const e of Object.values(data.entries) as { facts: Record<string, unknown> }[]) {
      e.facts.names = 'a.example.com';
      e.facts.spkiSha256 = 5;
    }
    await fs.writeFile(cacheFile, JSON.stringify(data));
    const reparsed = await observe();
    assert.equal(reparsed.key.state, 'ok');
    assert.equal(reparsed.cert.state === 'ok' && reparsed.cert.names.length, 2);

    // A link re-pointed, then a directory where the key belongs.
    const certLink = paths.links.find((l) => l.path.includes('www.'))!;
    await fs.rm(certLink.path);
    await fs.symlink('elsewhere.pem', certLink.path);
    assert.deepEqual((await observe()).integrity?.links.map((l) => [l.path, l.found, l.points]), [[certLink.path, 'elsewhere', 'elsewhere.pem']]);
    await fs.rm(paths.key);
    await fs.mkdir(paths.key);
    const blocked = await observe();
    assert.equal(blocked.key.state, 'unreadable');
    assert.match(blocked.integrity?.blocked ?? '', /-key\.prime256v1\.test\.pem is a directory where this line's key belongs: .*move it away/);
  });
});

test('the facts cache vouches for all links only while their directories are unchanged and settled', async () => {
  const { vouchForLinks } = await import('../../../src/store/link-vouch.ts');
  await withStore(async (dir) => {
    const keyDir = path.join(dir, 'key');
    const certDir = path.join(dir, 'cert');
    await fs.mkdir(keyDir);
    await fs.mkdir(certDir);
    await fs.writeFile(path.join(certDir, 'own.pem'), 'x');
    const links = [{ path: path.join(certDir, 'www.pem'), target: 'own.pem' }];
    await fs.symlink('own.pem', links[0].path);
    const cacheFile = path.join(dir, '.certfleet/facts.json');
    const old = new Date(Date.now() - 60_000);
    const settle = () => Promise.all([keyDir, certDir].map((d) => fs.utimes(d, old, old)));
    // As a run that read every link and found them sound.
    const vouch = async (set = links) => {
      const cache = await FactsCache.load(cacheFile);
      const v = vouchForLinks(cache, [keyDir, certDir], JSON.stringify(set), Date.now());
      v.remember();
      await cache.save();
      return v.vouched;
    };

    assert.equal(await vouch(), false, 'nothing recorded yet; a fresh directory is not recorded either');
    assert.equal(await vouch(), false, 'changed within the last seconds: never vouched for');
    await settle();
    assert.equal(await vouch(), false, 'read and found sound: recorded');
    assert.equal(await vouch(), true, 'vouched for');
    assert.equal(await vouch([...links, { path: path.join(certDir, 'mail.pem'), target: 'own.pem' }]), false, 'another set of links');
    await settle();
    assert.equal(await vouch(), false, 're-recorded after the other set');
    assert.equal(await vouch(), true);

    // Re-pointed, and the directory's mtime put back: the ctime still shows it.
    await fs.rm(links[0].path);
    await fs.symlink('elsewhere.pem', links[0].path);
    await settle();
    assert.equal(await vouch(), false, 'a changed directory is read again');
  });
});
