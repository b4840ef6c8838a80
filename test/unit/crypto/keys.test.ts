import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describeKey, generateKeyPem, keyDetails, keyMatchesSpec, parsePrivateKey, spkiSha256 } from '../../../src/crypto/keys.ts';
import { createCsrPem, parseCsr } from '../../../src/crypto/csr.ts';

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

test("lematt's EC key files (EC PARAMETERS block, then EC PRIVATE KEY) are read", () => {
  const pem = openssl('ecparam', '-genkey', '-name', 'prime256v1');
  assert.match(pem, /^-----BEGIN EC PARAMETERS-----/);
  const key = parsePrivateKey(pem);
  assert.equal(describeKey(keyDetails(key)), 'EC prime256v1');
  assert.ok(keyMatchesSpec(keyDetails(key), { kind: 'ec', curve: 'prime256v1' }));
  assert.ok(!keyMatchesSpec(keyDetails(key), { kind: 'ec', curve: 'secp384r1' }));
});

test('RSA keys from openssl genrsa (PKCS#8) and PKCS#1 are read; sizes are checked', () => {
  const pkcs8 = openssl('genrsa', '2048');
  const pkcs1 = execFileSync('openssl', ['rsa', '-traditional'], { input: pkcs8, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  assert.match(pkcs1, /^-----BEGIN RSA PRIVATE KEY-----/);
  for (const pem of [pkcs8, pkcs1]) {
    const key = parsePrivateKey(pem);
    assert.ok(keyMatchesSpec(keyDetails(key), { kind: 'rsa', bits: 2048 }));
    assert.ok(!keyMatchesSpec(keyDetails(key), { kind: 'rsa', bits: 4096 }));
  }
  assert.equal(spkiSha256(parsePrivateKey(pkcs8)), spkiSha256(parsePrivateKey(pkcs1)));
});

test('generated keys and CSRs: openssl verifies the CSR; names and key identity read back', async () => {
  for (const spec of [{ kind: 'rsa', bits: 2048 }, { kind: 'ec', curve: 'prime256v1' }, { kind: 'ec', curve: 'secp384r1' }] as const) {
    const pem = await generateKeyPem(spec);
    const key = parsePrivateKey(pem);
    assert.ok(keyMatchesSpec(keyDetails(key), spec), JSON.stringify(spec));
    const csr = await createCsrPem(['single.example.org'], key);
    const text = execFileSync('openssl', ['req', '-noout', '-verify', '-text'], { input: csr, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    assert.match(text, /DNS:single\.example\.org/, 'a single name still gets a SAN');
    const facts = parseCsr(csr);
    assert.deepEqual(facts.names, ['single.example.org']);
    assert.deepEqual(facts.sanNames, ['single.example.org']);
    assert.equal(facts.spkiSha256, spkiSha256(key));
  }
});

test('a CSR with its name in the subject only (as lematt wrote them) has no SAN names', async () => {
  const pem = await generateKeyPem({ kind: 'ec', curve: 'prime256v1' });
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-csr-'));
  try {
    writeFileSync(join(dir, 'k.pem'), pem, { mode: 0o600 });
    const csr = execFileSync('openssl', ['req', '-new', '-key', join(dir, 'k.pem'), '-subj', '/CN=Lematt.Example.org'], { encoding: 'utf8' });
    const facts = parseCsr(csr);
    assert.deepEqual(facts.names, ['lematt.example.org']);
    assert.deepEqual(facts.sanNames, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('garbage is not a key', () => {
  assert.throws(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'));
});
