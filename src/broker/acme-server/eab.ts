/**
 * External account binding (RFC 8555 §7.3.4): how a newAccount proves which enrolled device it
 * belongs to. The device signs its account key with the EAB MAC key it got at enrollment.
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { BrokerStore } from '../store/store.ts';
import type { Device } from '../types.ts';
import { MAC_ALGORITHMS, checkAlgorithm, macKey, parseFlattenedJws, verifySignature } from './jws.ts';
import { AcmeProblem, malformed } from './problem.ts';

/**
 * Checks the `externalAccountBinding` member of a newAccount payload against the account key
 * `jwk` and returns the device it binds to. Throws externalAccountRequired when it is missing,
 * malformed when it is not a proper binding, unauthorized for an unknown key identifier, a
 * removed device or a MAC that does not verify.
 */
export async function checkExternalAccountBinding(binding: unknown, jwk: JWK, newAccountUrl: string, store: BrokerStore): Promise<Device> {
  if (binding === undefined || binding === null) {
    throw new AcmeProblem('externalAccountRequired', 'this broker requires external account binding: use the EAB key id and HMAC key printed by `certfleet broker enroll`');
  }
  const { jws, header } = parseFlattenedJws(binding, 'externalAccountBinding');
  checkAlgorithm(header.alg, MAC_ALGORITHMS);
  if ('nonce' in header) throw malformed('externalAccountBinding: the protected header must not carry a nonce');
  if (header.url !== newAccountUrl) throw malformed(`externalAccountBinding: "url" must be ${newAccountUrl}`);
  if (typeof header.kid !== 'string') throw malformed('externalAccountBinding: no "kid"');
  const device = await store.deviceByKid(header.kid);
  // One message for all three, so a key identifier cannot be probed.
  const refused = new AcmeProblem('unauthorized', 'externalAccountBinding refused: unknown key identifier, removed device or wrong MAC');
  if (!device || device.removedAt) throw refused;
  const text = await verifySignature(jws, header.alg, macKey(device.eabHmacKey), 'externalAccountBinding').catch(() => {
    throw refused;
  });
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw malformed('externalAccountBinding: payload is not the account key (JSON)');
  }
  if (!(await sameKey(payload, jwk))) throw malformed('externalAccountBinding: payload is not the key that signs the request');
  return device;
}

async function sameKey(payload: unknown, jwk: JWK): Promise<boolean> {
  if (!payload || typeof payload !== 'object') return false;
  try {
    return (await calculateJwkThumbprint(payload as JWK)) === (await calculateJwkThumbprint(jwk));
  } catch {
    return false;
  }
}
