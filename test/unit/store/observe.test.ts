import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolvePaths } from '../../../src/store/observe.ts';

test('files lematt wrote with tied SANs in the other order are adopted, not re-issued (lematt.md §9 A7)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certfleet-observe-'));
  try {
    const naming = { configDir: dir, mode: 'prod' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
    const names = ['a.example.com', 'example.org', 'example.net'];
    const fresh = await resolvePaths(names, 'rsa', naming);
    assert.equal(fresh.base, 'a.example.com_example.net_example.org', 'nothing on disk: the stable order');
    await fs.mkdir(path.join(dir, 'prod/cert'), { recursive: true });
    // lematt's random set order put example.org first.
    await fs.writeFile(path.join(dir, 'prod/cert/a.example.com_example.org_example.net-cert-combined.rsa2048.pem'), 'x');
    const adopted = await resolvePaths(names, 'rsa', naming);
    assert.equal(adopted.base, 'a.example.com_example.org_example.net');
    assert.equal(adopted.key, path.join(dir, 'prod/key/a.example.com_example.org_example.net-key.rsa2048.pem'));
    assert.equal((await resolvePaths(names, 'ec', naming)).base, 'a.example.com_example.net_example.org', 'per key type');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the facts cache never serves facts of a replaced file (rename or in-place edit)', async () => {
  const { FactsCache } = await import('../../../src/store/facts-cache.ts');
  const { observeKeyAndCert } = await import('../../../src/store/observe.ts');
  const { generateKeyPem, parsePrivateKey, spkiSha256 } = await import('../../../src/crypto/keys.ts');
  const { writeAtomic } = await import('../../../src/store/atomic.ts');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certfleet-cache-'));
  try {
    const naming = { configDir: dir, mode: 'test' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
    const paths = await resolvePaths(['c.example.com'], 'ec', naming);
    await fs.mkdir(path.dirname(paths.key), { recursive: true });
    const spec = { kind: 'ec', curve: 'prime256v1' } as const;
    const cacheFile = path.join(dir, 'test/.certfleet/facts.json');
    const spkiOf = async (pem: string) => spkiSha256(parsePrivateKey(pem));
    const observe = async () => {
      const cache = await FactsCache.load(cacheFile);
      const obs = await observeKeyAndCert(paths, spec, cache);
      await cache.save();
      return obs.key.state === 'ok' ? obs.key.spkiSha256 : obs.key.state;
    };
    const a = await generateKeyPem(spec);
    await writeAtomic(paths.key, a, 0o600);
    assert.equal(await observe(), await spkiOf(a));
    assert.equal(await observe(), await spkiOf(a), 'from the cache');
    const b = await generateKeyPem(spec);
    await writeAtomic(paths.key, b, 0o600);
    assert.equal(await observe(), await spkiOf(b), 'after a rename');
    const c = await generateKeyPem(spec);
    await fs.writeFile(paths.key, c);
    assert.equal(await observe(), await spkiOf(c), 'after an in-place edit');
    await fs.writeFile(paths.key, 'garbage');
    assert.equal(await observe(), 'unreadable');
    await fs.rm(paths.key);
    assert.equal(await observe(), 'missing');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
