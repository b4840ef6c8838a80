/**
 * The signed requests of ACME (RFC 8555 §6.2): newAccount carries the account key as `jwk`,
 * every later request names its account as `kid` (the account URL). Both come out checked:
 * algorithm, url, signature, nonce, and for `kid` an account whose device is still enrolled.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Device, DeviceAccount } from '../types.ts';
import { ACCOUNT_ALGORITHMS, checkAlgorithm, checkNonce, checkUrl, importPublicJwk, parseFlattenedJws, parsePayload, verifySignature, type JwsHeader } from './jws.ts';
import type { Exchange } from './options.ts';
import { AcmeProblem, malformed } from './problem.ts';

/** A checked newAccount request. */
export interface KeyRequest {
  header: JwsHeader;
  jwk: JWK;
  payload: Record<string, unknown> | null;
}

/** A checked request of an existing account. */
export interface AccountRequest {
  account: DeviceAccount;
  device: Device;
  /** null for POST-as-GET. */
  payload: Record<string, unknown> | null;
}

/** Parses the body as JSON (ACME requests are `application/jose+json`, RFC 8555 §6.2). */
export function bodyJson(x: Exchange): unknown {
  const type = String(x.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/jose+json') throw malformed('Content-Type must be application/jose+json', 415);
  try {
    return JSON.parse(x.body.toString('utf8'));
  } catch {
    throw malformed('request body is not JSON');
  }
}

function parseSigned(x: Exchange, keyMember: 'jwk' | 'kid'): { jws: ReturnType<typeof parseFlattenedJws>['jws']; header: JwsHeader } {
  const { jws, header } = parseFlattenedJws(bodyJson(x));
  checkAlgorithm(header.alg, ACCOUNT_ALGORITHMS);
  if ('jwk' in header && 'kid' in header) throw malformed('JWS protected header has both "jwk" and "kid"');
  if (!(keyMember in header)) {
    throw malformed(keyMember === 'jwk' ? 'newAccount must be signed with "jwk", not "kid"' : 'this request must be signed with "kid" (the account URL), not "jwk"');
  }
  checkUrl(header, x.route.publicUrl);
  return { jws, header };
}

/** Checks a request signed with an embedded `jwk` (newAccount). Throws an AcmeProblem. */
export async function readKeyRequest(x: Exchange): Promise<KeyRequest> {
  const { jws, header } = parseSigned(x, 'jwk');
  const key = await importPublicJwk(header.jwk, header.alg);
  const text = await verifySignature(jws, header.alg, key);
  await checkNonce(header, (n) => x.opts.store.takeNonce(n, x.now));
  return { header, jwk: header.jwk as JWK, payload: parsePayload(text) };
}

/** Imported account keys by thumbprint and algorithm: importing one costs more than verifying with it. */
const keyCache = new Map<string, KeyObject | CryptoKey>();
const KEY_CACHE_SIZE = 10_000;

/** The account's key for `alg`, imported once (an account's key never changes: its thumbprint names it). */
async function accountKey(account: DeviceAccount, alg: string): Promise<KeyObject | CryptoKey> {
  const id = `${account.thumbprint} ${alg}`;
  const known = keyCache.get(id);
  if (known) {
    // Most recently used last, so the oldest goes first when the cache is full.
    keyCache.delete(id);
    keyCache.set(id, known);
    return known;
  }
  const key = await importPublicJwk(account.jwk, alg, 'account key');
  keyCache.set(id, key);
  if (keyCache.size > KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  return key;
}

/**
 * Checks a request signed by an account (`kid`). Throws accountDoesNotExist for an unknown
 * account URL and unauthorized for a deactivated account or one whose device was removed.
 */
export async function readAccountRequest(x: Exchange): Promise<AccountRequest> {
  const { jws, header } = parseSigned(x, 'kid');
  const prefix = x.urls.account('');
  const kid = header.kid;
  const id = typeof kid === 'string' && kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new AcmeProblem('accountDoesNotExist', 'JWS "kid" is not an account URL of this server');
  const account = await x.opts.store.getAccount(id);
  if (!account) throw new AcmeProblem('accountDoesNotExist', 'no such account');
  const key = await accountKey(account, header.alg);
  const text = await verifySignature(jws, header.alg, key);
  await checkNonce(header, (n) => x.opts.store.takeNonce(n, x.now));
  const device = await x.opts.store.getDevice(account.device);
  if (account.status !== 'valid') throw new AcmeProblem('unauthorized', 'account is deactivated');
  if (!device || device.removedAt) throw new AcmeProblem('unauthorized', 'account refused: its device is no longer enrolled');
  return { account, device, payload: parsePayload(text) };
}
