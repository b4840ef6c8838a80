/**
 * The ARI CertID of a certificate (RFC 9773 §4.1): the key identifier of its Authority Key
 * Identifier extension and its serial number's DER content octets, each base64url without
 * padding, joined by a dot. Read straight from the DER with a few lines of TLV walking, so the
 * facts path never loads an ASN.1 library for it.
 */

interface Tlv {
  tag: number;
  /** Offset of the content octets. */
  start: number;
  /** Offset just past the content octets. */
  end: number;
}

function tlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error('certificate DER is truncated');
  const tag = der[at];
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('certificate DER has a bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  if (start + len > limit) throw new Error('certificate DER is truncated');
  return { tag, start, end: start + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = tlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

// 2.5.29.35, authorityKeyIdentifier, as DER OID content octets.
const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]);

/**
 * The CertID of a DER certificate. Throws when the DER is malformed or the certificate has no
 * Authority Key Identifier with a keyIdentifier (such a certificate has no ARI CertID).
 */
export function ariCertId(der: Uint8Array): string {
  const cert = tlv(der, 0, der.length);
  const tbs = children(der, cert)[0];
  if (!tbs) throw new Error('certificate DER has no tbsCertificate');
  const fields = children(der, tbs);
  // tbsCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, spki, [1], [2], [3] extensions
  const serial = fields[0]?.tag === 0xa0 ? fields[1] : fields[0];
  if (!serial || serial.tag !== 0x02) throw new Error('certificate DER has no serial number');
  const extensions = fields.find((f) => f.tag === 0xa3);
  let keyId: Uint8Array | null = null;
  for (const ext of extensions ? children(der, children(der, extensions)[0]) : []) {
    const [oid, ...rest] = children(der, ext);
    if (oid.tag !== 0x06 || !Buffer.from(der.subarray(oid.start, oid.end)).equals(AKI_OID)) continue;
    const value = rest[rest.length - 1]; // critical BOOLEAN may stand before the OCTET STRING
    const aki = tlv(der, value.start, value.end);
    const id = children(der, aki).find((c) => c.tag === 0x80);
    if (id) keyId = der.subarray(id.start, id.end);
  }
  if (!keyId) throw new Error('certificate has no authority key identifier');
  return `${Buffer.from(keyId).toString('base64url')}.${Buffer.from(der.subarray(serial.start, serial.end)).toString('base64url')}`;
}
