/**
 * What a device's CSR must be before the broker takes it upstream (RFC 8555 §7.4): signed by its
 * key, for exactly the order's names, with a key the CA accepts. The broker never makes a CSR of
 * its own: the device keeps its key.
 */
import { createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AcmeProblem } from './problem.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

// Looked up by OID: a class lookup fails when two copies of @peculiar/x509 are loaded (src/crypto/csr.ts).
const SAN_OID = '2.5.29.17';

/** Throws badPublicKey unless the SPKI is RSA of 2048–4096 bits or EC on P-256 or P-384. */
export function checkCsrKey(spki: ArrayBuffer): void {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new AcmeProblem('badPublicKey', 'CSR public key cannot be read');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048 || bits > 4096) throw new AcmeProblem('badPublicKey', `CSR key is RSA ${bits} bits; 2048 to 4096 are accepted`);
    return;
  }
  if (key.asymmetricKeyType === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) return;
  throw new AcmeProblem('badPublicKey', `CSR key is ${key.asymmetricKeyType} ${details.namedCurve ?? ''}`.trimEnd() + '; RSA 2048–4096, P-256 or P-384 are accepted');
}

/** The PEM text of a DER CSR, exactly its bytes. */
export function csrPemOf(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/**
 * Checks the base64url DER CSR of a finalize request against the order's `identifiers` (lower
 * case, sorted) and returns it as PEM. Throws badCSR (unreadable, bad signature, other names, a
 * CN not among the SAN names, non-DNS SANs) or badPublicKey.
 */
export async function checkCsr(csrB64url: unknown, identifiers: readonly string[]): Promise<string> {
  if (typeof csrB64url !== 'string' || !/^[A-Za-z0-9_-]+$/.test(csrB64url)) throw new AcmeProblem('badCSR', 'finalize: "csr" must be the base64url DER of a CSR');
  const der = Buffer.from(csrB64url, 'base64url');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch {
    throw new AcmeProblem('badCSR', 'finalize: "csr" is not a PKCS#10 certificate request');
  }
  checkCsrKey(csr.publicKey.rawData);
  let signed = false;
  try {
    signed = await csr.verify();
  } catch {
    signed = false;
  }
  if (!signed) throw new AcmeProblem('badCSR', 'CSR signature does not verify');
  const raw = csr.getExtension(SAN_OID);
  const items = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData).names.items : [];
  if (items.some((n) => n.type !== 'dns')) throw new AcmeProblem('badCSR', 'CSR subjectAltName may hold DNS names only');
  const san = new Set(items.map((n) => n.value.toLowerCase()));
  const wanted = new Set(identifiers);
  const extra = [...san].filter((n) => !wanted.has(n)).sort();
  const missing = identifiers.filter((n) => !san.has(n));
  if (extra.length || missing.length) {
    const parts = [extra.length ? `not in the order: ${extra.slice(0, 10).join(', ')}` : '', missing.length ? `missing: ${missing.slice(0, 10).join(', ')}` : ''];
    throw new AcmeProblem('badCSR', `CSR names differ from the order's (${parts.filter(Boolean).join('; ')})`);
  }
  for (const cn of csr.subjectName.getField('CN')) {
    if (!wanted.has(cn.toLowerCase())) throw new AcmeProblem('badCSR', `CSR common name ${JSON.stringify(cn.slice(0, 80))} is not among the order's names`);
  }
  return csrPemOf(der);
}
