import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

/** What to generate for a certificate key: RSA of some bits, or EC on a named curve. */
export type KeySpec = { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: 'prime256v1' | 'secp384r1' };

/**
 * Generates a certificate key as PEM with Node's crypto: RSA as PKCS#8 (what `openssl genrsa`
 * writes with OpenSSL 3), EC as SEC1 `EC PRIVATE KEY` (lematt's format minus the parameters
 * block, which the curve OID inside the key makes redundant).
 */
export async function generateKeyPem(spec: KeySpec): Promise<string> {
  if (spec.kind === 'rsa') {
    const { privateKey } = await generate('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
  const { privateKey } = await generate('ec', { namedCurve: spec.curve });
  return privateKey.export({ type: 'sec1', format: 'pem' }) as string;
}

/**
 * Drops PEM blocks that are not keys, such as the `EC PARAMETERS` block that
 * `openssl ecparam -genkey` puts before the key in lematt's EC key files.
 */
export function keyBlock(pem: string): string {
  const blocks = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const key = blocks.find((b) => /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(b));
  return key ?? pem;
}

/** Parses a private key PEM (PKCS#1, SEC1 with or without parameters block, PKCS#8). Throws when unreadable. */
export function parsePrivateKey(pem: string): KeyObject {
  return createPrivateKey({ key: keyBlock(pem), format: 'pem' });
}

/** SHA-256 (hex) of a key's DER SubjectPublicKeyInfo: the identity used to match key, CSR and certificate. */
export function spkiSha256(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return spkiDigest(pub.export({ type: 'spki', format: 'der' }) as Buffer);
}

/** SHA-256 (hex) of DER SubjectPublicKeyInfo bytes. */
export function spkiDigest(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** What matters of a key for matching it to the config; plain data, so it can be cached. */
export interface KeyDetails {
  kind: string;
  bits: number | null;
  curve: string | null;
}

/** The details of a parsed key. */
export function keyDetails(key: KeyObject): KeyDetails {
  const d = key.asymmetricKeyDetails ?? {};
  return { kind: String(key.asymmetricKeyType), bits: d.modulusLength ?? null, curve: d.namedCurve ?? null };
}

/** A short, human description of a key (`RSA 2048`, `EC prime256v1`). */
export function describeKey(k: KeyDetails): string {
  if (k.kind === 'rsa') return `RSA ${k.bits ?? '?'}`;
  if (k.kind === 'ec') return `EC ${k.curve ?? '?'}`;
  return k.kind;
}

/** True when the key is what `spec` asks for (type and size or curve). */
export function keyMatchesSpec(k: KeyDetails, spec: KeySpec): boolean {
  if (spec.kind === 'rsa') return k.kind === 'rsa' && k.bits === spec.bits;
  return k.kind === 'ec' && k.curve === spec.curve;
}
