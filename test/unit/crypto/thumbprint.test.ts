import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwkThumbprint, readAccountThumbprint } from '../../../src/crypto/thumbprint.ts';

const sha256url = (text: string): string => createHash('sha256').update(text).digest('base64url');

// RFC 7638 §3.1: the example RSA key and its thumbprint.
const RFC7638_N =
  '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';

// A fixed P-256 key whose x and y are d·G. (The x and y this file had before belonged to another
// key; Node.js 20 imported the mismatched JWK, Node.js 26 rightly refuses it.)
const EC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'iOCu7_ftx22z1TKe0yoL2bo0mtGiROBhQw0a7PJuCwY',
  y: 'OwtwduEPtXKOvrMtDX51qKi1-S5W89Up-hd6cud43Vo',
  d: 'jpsQnnGQmL-YBIffH1136cLyG2JN_fe0XO-Ht8vL4FA',
};
// What `openssl ecparam -name prime256v1` writes before the key (the curve OID).
const P256_PARAMETERS = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';

test('RFC 7638 §3.1 test vector', () => {
  const pem = createPublicKey({ key: { kty: 'RSA', n: RFC7638_N, e: 'AQAB' }, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  assert.equal(jwkThumbprint(pem), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('RSA key: PKCS#1, PKCS#8 and SPKI give the canonical thumbprint', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const expected = sha256url(`{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`);
  const cases = [
    { desc: 'PKCS#1', pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() },
    { desc: 'PKCS#8', pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    { desc: 'SPKI', pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
  ];
  for (const { desc, pem } of cases) assert.equal(jwkThumbprint(pem), expected, desc);
});

test('EC key: SEC1 with and without EC PARAMETERS, and PKCS#8', () => {
  const key = createPrivateKey({ key: EC_JWK, format: 'jwk' });
  const expected = sha256url(`{"crv":"P-256","kty":"EC","x":"${EC_JWK.x}","y":"${EC_JWK.y}"}`);
  const sec1 = key.export({ type: 'sec1', format: 'pem' }).toString();
  const cases = [
    { desc: 'SEC1', pem: sec1 },
    { desc: 'EC PARAMETERS + SEC1 (openssl ecparam -genkey)', pem: P256_PARAMETERS + sec1 },
    { desc: 'PKCS#8', pem: key.export({ type: 'pkcs8', format: 'pem' }).toString() },
  ];
  for (const { desc, pem } of cases) assert.equal(jwkThumbprint(pem), expected, desc);
});

test('unusable keys are reported with their subject', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const cases = [
    { desc: 'no PEM', pem: 'hello', error: /^Error: k: no PEM private or public key block$/ },
    { desc: 'parameters only', pem: P256_PARAMETERS, error: /^Error: k: no PEM private or public key block$/ },
    {
      desc: 'encrypted',
      pem: rsa.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }).toString(),
      error: /^Error: k: cannot use: /,
    },
    {
      desc: 'Ed25519',
      pem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      error: /^Error: k: key type OKP is not supported \(RSA or EC only\)$/,
    },
  ];
  for (const { desc, pem, error } of cases) {
    assert.throws(() => jwkThumbprint(pem, 'k'), (err: Error) => error.test(String(err)), desc);
  }
});

test('readAccountThumbprint reads the file and names it in errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-thumbprint-'));
  try {
    const path = join(dir, 'account.key');
    const key = createPrivateKey({ key: EC_JWK, format: 'jwk' });
    await writeFile(path, P256_PARAMETERS + key.export({ type: 'sec1', format: 'pem' }).toString());
    assert.equal(await readAccountThumbprint(path), jwkThumbprint(key.export({ type: 'pkcs8', format: 'pem' }).toString()));
    const missing = join(dir, 'missing.key');
    await assert.rejects(readAccountThumbprint(missing), { message: `account key ${missing}: cannot read: ENOENT` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
