/**
 * JWK thumbprints of ACME account keys (RFC 7638), the `<thumbprint>` in every key
 * authorization (RFC 8555 §8.1).
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyBlock } from './keys.ts';

/** The members RFC 7638 §3.2 hashes, in lexicographic order, per key type. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
};

/**
 * Builds the RFC 7638 §3 input: the required members only, sorted, no whitespace. Every value
 * is a base64url string or a fixed name, which JSON.stringify writes exactly as §3.3 requires.
 * @throws Error `<subject>: …` for key types other than RSA and EC or a missing member.
 */
export function canonicalJwk(jwk: JsonWebKey, subject = 'account key'): string {
  const kty = String(jwk.kty);
  const members = REQUIRED_MEMBERS[kty];
  if (!members) throw new Error(`${subject}: key type ${kty} is not supported (RSA or EC only)`);
  const parts = members.map((name) => {
    const value = jwk[name];
    if (typeof value !== 'string') throw new Error(`${subject}: JWK member ${name} is missing`);
    return `${JSON.stringify(name)}:${JSON.stringify(value)}`;
  });
  return `{${parts.join(',')}}`;
}

/**
 * Returns the base64url SHA-256 JWK thumbprint (RFC 7638) of the public half of an RSA or EC
 * key given as PEM: PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, with or without a
 * leading `EC PARAMETERS` block), PKCS#8 (`PRIVATE KEY`) or SPKI (`PUBLIC KEY`).
 * @param subject starts every error message, e.g. `account key /etc/lematt/account.key`
 * @throws Error `<subject>: …` for text without a key block, encrypted keys, unsupported key
 *   types or curves Node cannot express as a JWK (only P-256, P-384, P-521, secp256k1).
 */
export function jwkThumbprint(keyPem: string, subject = 'account key'): string {
  if (!/-----BEGIN [A-Z0-9 ]*KEY-----/.test(keyPem)) throw new Error(`${subject}: no PEM private or public key block`);
  let jwk: JsonWebKey;
  try {
    // keyBlock skips the `EC PARAMETERS` block `openssl ecparam -genkey` writes first.
    jwk = createPublicKey(keyBlock(keyPem)).export({ format: 'jwk' });
  } catch (err) {
    throw new Error(`${subject}: cannot use: ${(err as Error).message}`, { cause: err });
  }
  return createHash('sha256').update(canonicalJwk(jwk, subject)).digest('base64url');
}

/**
 * Reads the PEM key at `path` and returns its {@link jwkThumbprint}.
 * @throws Error `account key <path>: …` when the file cannot be read or holds no usable key.
 */
export async function readAccountThumbprint(path: string): Promise<string> {
  const subject = `account key ${path}`;
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${subject}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  return jwkThumbprint(pem, subject);
}
