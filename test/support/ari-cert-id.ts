/**
 * Test support for the ARI stand-in (see ari-stand-in.ts): RFC 9773 CertIDs and Let's Encrypt's
 * default renewal window, computed here independently of certfleet's own code in src/.
 */
import * as x509 from '@peculiar/x509';

const DAY_MS = 86_400_000;

/** Reads one DER tag-length header at `at`; returns where the contents start and end. */
function derItem(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new Error('certIdOf: unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i];
    start += octets;
  }
  if (tag === undefined || start + length > der.length) throw new Error('certIdOf: truncated DER');
  return { tag, start, end: start + length };
}

/**
 * The DER content octets of a certificate's serialNumber INTEGER exactly as encoded (so a
 * leading 0x00 stays; @peculiar/x509 and Node's X509Certificate both drop it).
 */
export function serialOctets(der: Uint8Array): Uint8Array {
  const cert = derItem(der, 0);
  const tbs = derItem(der, cert.start);
  let at = tbs.start;
  const first = derItem(der, at);
  if (first.tag === 0xa0) at = first.end; // explicit [0] version
  const serial = derItem(der, at);
  if (serial.tag !== 0x02) throw new Error('certIdOf: no serialNumber INTEGER in tbsCertificate');
  return der.subarray(serial.start, serial.end);
}

/** The first certificate in `pem` (the leaf of a chain); throws when there is none. */
export function firstCertificate(pem: string): x509.X509Certificate {
  const block = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!block) throw new Error('certIdOf: no CERTIFICATE block in the PEM text');
  return new x509.X509Certificate(block);
}

/**
 * RFC 9773 §4.1 CertID of the first certificate in `certPem` (other PEM blocks, such as the rest
 * of a chain or a key, are ignored): base64url(AKI keyIdentifier) "." base64url(serial's DER
 * content octets), both unpadded. Throws when there is no certificate or it has no Authority Key
 * Identifier with a keyIdentifier.
 */
export function certIdOf(certPem: string): string {
  const cert = firstCertificate(certPem);
  const keyId = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  if (!keyId) throw new Error(`certIdOf: ${cert.subject}: no Authority Key Identifier keyIdentifier`);
  const serial = serialOctets(new Uint8Array(cert.rawData));
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${Buffer.from(serial).toString('base64url')}`;
}

/**
 * Let's Encrypt's renewal window for a certificate valid from `notBefore` to `notAfter`: centred
 * on two thirds of the lifetime (half, for lifetimes under 10 days), 1% of the lifetime either side.
 */
export function defaultRenewalWindow(notBefore: Date, notAfter: Date): { start: Date; end: Date } {
  const life = notAfter.getTime() - notBefore.getTime();
  const centre = notBefore.getTime() + (life < 10 * DAY_MS ? life / 2 : (life * 2) / 3);
  return { start: new Date(Math.round(centre - life / 100)), end: new Date(Math.round(centre + life / 100)) };
}
