/**
 * Certificates for unit tests of chain and store checks: a stand-in CA hierarchy made with
 * @peculiar/x509 (no CA server is needed to test how a file on disk is judged).
 */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const notBefore = new Date(Date.now() - 86_400_000);
const notAfter = new Date(Date.now() + 3650 * 86_400_000);

/** A certificate with its keys. */
export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** A CA named `name`, signed by `issuer` (self-signed without one). */
export async function makeCa(name: string, issuer?: Issued): Promise<Issued> {
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const extensions = [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)];
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({ subject: name, issuer: issuer.cert.subject, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, notBefore, notAfter, signingAlgorithm: ALG, extensions }, crypto)
    : await x509.X509CertificateGenerator.createSelfSigned({ name, keys, notBefore, notAfter, signingAlgorithm: ALG, extensions }, crypto);
  return { cert, keys };
}

/** A leaf for `names` signed by `issuer`; `keyPem` (PKCS#8) is its private key. */
export async function makeLeaf(issuer: Issued, names: string[]): Promise<Issued & { keyPem: string }> {
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${names[0]}`,
      issuer: issuer.cert.subject,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
    },
    crypto,
  );
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { cert, keys, keyPem };
}

/** The PEM file of `certs` in order, one after the other. */
export function pemOf(...certs: x509.X509Certificate[]): string {
  return certs.map((c) => c.toString('pem') + '\n').join('');
}
