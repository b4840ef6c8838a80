import { X509Certificate } from 'node:crypto';
import { ariCertId } from './cert-id.ts';
import { spkiDigest } from './keys.ts';

/** What certfleet needs to know of a certificate file (the leaf, first in the chain). */
export interface CertFacts {
  notBefore: Date;
  notAfter: Date;
  /** Lowercased DNS names of the subjectAltName (the CN when there is none). */
  names: string[];
  spkiSha256: string;
  serial: string;
  /** ARI CertID (RFC 9773 §4.1); null for a certificate without an authority key identifier. */
  certId: string | null;
  /** Number of PEM certificates in the file (leaf + intermediates). */
  chainLength: number;
}

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Splits a PEM chain into its certificates, in file order. */
export function splitChain(pem: string): string[] {
  return pem.match(BLOCK) ?? [];
}

/** Parses the leaf of a PEM chain with Node's native X.509 parser. Throws when there is none. */
export function parseCertChain(pem: string): CertFacts {
  const blocks = splitChain(pem);
  if (blocks.length === 0) throw new Error('no PEM certificate in file');
  const leaf = new X509Certificate(blocks[0]);
  const names = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1];
    if (cn) names.push(cn.toLowerCase());
  }
  return {
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    names,
    spkiSha256: spkiDigest(leaf.publicKey.export({ type: 'spki', format: 'der' }) as Buffer),
    serial: leaf.serialNumber,
    certId: certIdOrNull(leaf.raw),
    chainLength: blocks.length,
  };
}

function certIdOrNull(der: Uint8Array): string | null {
  try {
    return ariCertId(der);
  } catch {
    return null;
  }
}

/**
 * Checks that each certificate of the chain is signed by the next and the last by `rootPem`.
 * Returns null when it verifies, else what is wrong.
 */
export function verifyChain(chainPem: string, rootPem: string): string | null {
  const certs = splitChain(chainPem).map((b) => new X509Certificate(b));
  const root = new X509Certificate(rootPem);
  const all = [...certs, root];
  for (let i = 0; i < certs.length; i++) {
    if (!all[i].checkIssued(all[i + 1]) || !all[i].verify(all[i + 1].publicKey)) {
      return `certificate ${i} (${all[i].subject.replace(/\n/g, ', ')}) is not signed by ${all[i + 1].subject.replace(/\n/g, ', ')}`;
    }
  }
  return null;
}
