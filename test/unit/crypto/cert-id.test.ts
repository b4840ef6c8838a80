import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ariCertId } from '../../../src/crypto/cert-id.ts';
import { parseCertChain } from '../../../src/crypto/cert.ts';

const crypto = webcrypto as unknown as Crypto;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate with the given AKI key identifier (hex) and serial (hex), or no AKI. */
async function makeCert(serialHex: string, akiHex: string | null, critical = false): Promise<X509Certificate> {
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const extensions = akiHex === null ? [] : [new x509.AuthorityKeyIdentifierExtension(akiHex, critical)];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: 'CN=leaf.example',
    issuer: 'CN=issuer.example',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2026-04-01T00:00:00Z'),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return new X509Certificate(cert.toString('pem'));
}

test("CertID of RFC 9773's example (AKI 69:88:5b:6b:87:46:40:41:e1:b3:7b:84:7b:a0:ae:2c:de:01:c8:d4, serial 0x0087654321)", async () => {
  const cert = await makeCert('0087654321', '69885b6b87464041e1b37b847ba0ae2cde01c8d4');
  assert.equal(ariCertId(cert.raw), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  assert.equal(parseCertChain(cert.toString()).certId, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
});

test('CertID keeps a serial without a leading zero as it is, and reads a critical AKI', async () => {
  const cert = await makeCert('0102030405', 'aabbcc', true);
  assert.equal(ariCertId(cert.raw), `${Buffer.from('aabbcc', 'hex').toString('base64url')}.${Buffer.from('0102030405', 'hex').toString('base64url')}`);
});

test('a certificate without an AKI has no CertID; malformed DER throws', async () => {
  const cert = await makeCert('01', null);
  assert.throws(() => ariCertId(cert.raw), /no authority key identifier/);
  assert.equal(parseCertChain(cert.toString()).certId, null);
  assert.throws(() => ariCertId(cert.raw.subarray(0, 40)), /truncated/);
});
