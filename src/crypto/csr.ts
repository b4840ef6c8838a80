import { webcrypto, type KeyObject, createPublicKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { spkiDigest } from './keys.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const SAN_OID = '2.5.29.17';

/** What certfleet needs to know of a CSR on disk. */
export interface CsrFacts {
  /** Lowercased DNS names from the CN and the subjectAltName request extension. */
  names: string[];
  /**
   * Lowercased DNS names of the subjectAltName request extension alone; empty for a CSR whose
   * names are in its CN only (as lematt wrote single-name CSRs), which strict CAs refuse.
   */
  sanNames: string[];
  spkiSha256: string;
}

function algorithmFor(key: KeyObject): RsaHashedImportParams | EcKeyImportParams {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { name: 'ECDSA', namedCurve: 'P-256' };
  if (curve === 'secp384r1') return { name: 'ECDSA', namedCurve: 'P-384' };
  throw new Error(`unsupported key for a CSR: ${key.asymmetricKeyType} ${curve ?? ''}`);
}

/**
 * Creates a PEM CSR for `names` (the first is the CN) signed by `key`. Unlike lematt, every CSR
 * carries a subjectAltName extension, also for one name: CAs take names from the SAN, and
 * profiles without a CN need it.
 */
export async function createCsrPem(names: readonly string[], key: KeyObject): Promise<string> {
  const alg = algorithmFor(key);
  const subtle = webcrypto.subtle;
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, alg, true, ['verify']);
  const hash = alg.name === 'ECDSA' && (alg as EcKeyImportParams).namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256';
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [names[0]] }],
    keys: { privateKey, publicKey } as CryptoKeyPair,
    signingAlgorithm: alg.name === 'ECDSA' ? { name: 'ECDSA', hash } : { name: alg.name, hash },
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
  });
  return csr.toString('pem') + '\n';
}

/** Reads names and public key of a PEM CSR. Throws when it is not a CSR. */
export function parseCsr(pem: string): CsrFacts {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const names = new Set<string>();
  const sanNames = new Set<string>();
  for (const cn of csr.subjectName.getField('CN')) names.add(cn.toLowerCase());
  // Looked up by OID: a class lookup fails when two copies of the module are loaded.
  const raw = csr.getExtension(SAN_OID);
  const san = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData) : null;
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') {
      names.add(n.value.toLowerCase());
      sanNames.add(n.value.toLowerCase());
    }
  }
  return { names: [...names], sanNames: [...sanNames], spkiSha256: spkiDigest(new Uint8Array(csr.publicKey.rawData)) };
}
