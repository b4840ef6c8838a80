/**
 * A throw-away certificate authority for Pebble's HTTPS listeners: Debian's pebble ships no
 * certificate, so each harness run makes its own CA and a leaf for 127.0.0.1 and localhost.
 */
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/** Paths of the generated PEM files and the CA certificate text. */
export interface TlsFiles {
  caCertPath: string;
  caPem: string;
  certPath: string;
  keyPath: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * Writes `ca.pem`, `pebble-cert.pem` (leaf, then CA) and `pebble-key.pem` (PKCS#8) into `dir`.
 * Valid from one hour ago for one day. Throws on any crypto or write failure.
 */
export async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const crypto = webcrypto as unknown as Crypto;
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + 86400_000);
  const caKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=certfleet test harness CA',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const leafKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=127.0.0.1',
      issuer: ca.subject,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const caPem = ca.toString('pem') + '\n';
  const files: TlsFiles = {
    caCertPath: join(dir, 'ca.pem'),
    caPem,
    certPath: join(dir, 'pebble-cert.pem'),
    keyPath: join(dir, 'pebble-key.pem'),
  };
  const keyDer = await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  await writeFile(files.caCertPath, caPem);
  await writeFile(files.certPath, leaf.toString('pem') + '\n' + caPem);
  await writeFile(files.keyPath, toPem(keyDer, 'PRIVATE KEY'), { mode: 0o600 });
  return files;
}
