/**
 * Checking a JWS-signed request (RFC 8555 §6.2–6.5) with jose: the flattened JSON serialization
 * only, a protected header whose `url` is the request's own URL, a nonce used once, an accepted
 * algorithm, and a signature that verifies with the key the caller resolves from the header.
 * The same checks serve ACME requests (account keys) and certfleet's `/address` (an EAB MAC).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { flattenedVerify, importJWK, type JWK } from 'jose';
import { AcmeProblem, malformed } from './problem.ts';

/** Algorithms accepted for account keys: never `none`, never a MAC (RFC 8555 §6.2). */
export const ACCOUNT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Algorithms accepted for EAB MACs (RFC 8555 §7.3.4) and `/address`. */
export const MAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512'];

/** A flattened JWS as sent. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/** The protected header as decoded; members are checked where they are used. */
export type JwsHeader = Record<string, unknown> & { alg: string };

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Parses `value` (a request body's JSON, or an EAB member) as a flattened JWS and decodes its
 * protected header. Throws malformed for anything else: the general serialization, an
 * unprotected header, members that are not base64url, a header that is not a JSON object or
 * has no `alg`.
 */
export function parseFlattenedJws(value: unknown, what = 'request'): { jws: FlattenedJws; header: JwsHeader } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${what}: not a JWS object`);
  const v = value as Record<string, unknown>;
  if ('signatures' in v) throw malformed(`${what}: only the flattened JWS JSON serialization is accepted`);
  if ('header' in v) throw malformed(`${what}: a JWS unprotected header is not allowed`);
  for (const member of ['protected', 'payload', 'signature'] as const) {
    const m = v[member];
    if (typeof m !== 'string' || !B64URL.test(m)) throw malformed(`${what}: JWS member "${member}" missing or not base64url`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(v.protected as string, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`${what}: JWS protected header is not JSON`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw malformed(`${what}: JWS protected header is not an object`);
  const alg = (header as Record<string, unknown>).alg;
  if (typeof alg !== 'string') throw malformed(`${what}: JWS protected header has no "alg"`);
  return { jws: v as unknown as FlattenedJws, header: header as JwsHeader };
}

/** Throws badSignatureAlgorithm (naming the accepted ones) unless `alg` is among `algorithms`. */
export function checkAlgorithm(alg: string, algorithms: readonly string[]): void {
  if (!algorithms.includes(alg)) {
    throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm ${JSON.stringify(alg).slice(0, 40)} is not accepted`, { extra: { algorithms } });
  }
}

/**
 * Imports a client's public JWK for `alg`. Throws badPublicKey for private keys, symmetric keys
 * and keys jose refuses (wrong type for the algorithm, RSA under 2048 bits).
 */
export async function importPublicJwk(jwk: unknown, alg: string, what = 'JWS "jwk"'): Promise<KeyObject | CryptoKey> {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw malformed(`${what} is not a JSON object`);
  const key = jwk as JWK;
  if (key.kty === 'oct' || 'd' in key) throw new AcmeProblem('badPublicKey', `${what} must be a public key`);
  if (key.kty === 'RSA') {
    const bits = rsaBits(key.n);
    if (bits < 2048 || bits > 4096) throw new AcmeProblem('badPublicKey', `${what} is RSA ${bits} bits; 2048 to 4096 are accepted`);
  }
  try {
    const imported = await importJWK(key, alg);
    if (imported instanceof Uint8Array) throw new Error('symmetric key');
    return imported;
  } catch (err) {
    throw new AcmeProblem('badPublicKey', `${what} cannot be used with ${alg}: ${(err as Error).message}`);
  }
}

/** Bit length of an RSA modulus given as base64url (0 when absent). */
function rsaBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i === bytes.length ? 0 : (bytes.length - i - 1) * 8 + bytes[i].toString(2).length;
}

/** A MAC key for jose from a base64url secret (an EAB HMAC key). */
export function macKey(base64url: string): KeyObject {
  return createSecretKey(Buffer.from(base64url, 'base64url'));
}

/** Throws unauthorized unless the header's `url` is `expected` (RFC 8555 §6.4). */
export function checkUrl(header: JwsHeader, expected: string, what = 'JWS'): void {
  if (header.url !== expected) throw new AcmeProblem('unauthorized', `${what} "url" is not this request's URL ${expected}`);
}

/**
 * Verifies the signature with `key` for the header's `alg`; returns the payload text. Throws
 * malformed when it does not verify (jose's message names no key material).
 */
export async function verifySignature(jws: FlattenedJws, alg: string, key: KeyObject | CryptoKey, what = 'JWS'): Promise<string> {
  try {
    const { payload } = await flattenedVerify(jws, key, { algorithms: [alg] });
    return Buffer.from(payload).toString('utf8');
  } catch (err) {
    const name = (err as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature does not verify' : (err as Error).message;
    throw new AcmeProblem(what === 'JWS' ? 'malformed' : 'unauthorized', `${what}: ${name}`);
  }
}

/** Throws badNonce unless the header's `nonce` is one the server issued and nobody used (RFC 8555 §6.5). */
export async function checkNonce(header: JwsHeader, take: (nonce: string) => Promise<boolean>): Promise<void> {
  const nonce = header.nonce;
  if (typeof nonce !== 'string' || !B64URL.test(nonce) || nonce.length === 0) throw new AcmeProblem('badNonce', 'JWS has no valid "nonce"');
  if (!(await take(nonce))) throw new AcmeProblem('badNonce', 'nonce unknown, expired or already used');
}

/**
 * The payload of a checked request: null for POST-as-GET (empty payload, RFC 8555 §6.3),
 * otherwise the parsed JSON object. Throws malformed for JSON that is not an object.
 */
export function parsePayload(text: string): Record<string, unknown> | null {
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('JWS payload is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed('JWS payload is not a JSON object');
  return value as Record<string, unknown>;
}
