/**
 * `/address`, certfleet's own endpoint behind `certfleet address` on a device: it replaces the
 * address records of the device's names. Authenticated by the enrollment's EAB MAC key and made
 * replay-safe by an ACME nonce (each used once), so no account is needed.
 */
import { isIP } from 'node:net';
import { bodyJson } from './authenticate.ts';
import { MAC_ALGORITHMS, checkAlgorithm, checkNonce, checkUrl, macKey, parseFlattenedJws, parsePayload, verifySignature } from './jws.ts';
import type { Answer, Exchange } from './options.ts';
import { AcmeProblem, malformed } from './problem.ts';

/** Most addresses one device may publish. */
export const MAX_ADDRESSES = 16;

/**
 * Checks the `addresses` member: 1–16 IPv4 or IPv6 literals (private ones too), no zone ids.
 * Returns them deduplicated in the order given, IPv6 in lower case. Throws malformed.
 */
export function checkAddresses(payload: Record<string, unknown> | null): string[] {
  const list = payload?.addresses;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ADDRESSES) throw malformed(`address: "addresses" must list 1 to ${MAX_ADDRESSES} IP addresses`);
  const out: string[] = [];
  for (const a of list as unknown[]) {
    if (typeof a !== 'string' || a.includes('%') || isIP(a) === 0) throw malformed(`address: ${JSON.stringify(a).slice(0, 60)} is not an IPv4 or IPv6 address`);
    const value = a.toLowerCase();
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** POST /address: 200 `{device, names, addresses}`; unauthorized and nothing changed for a wrong key, unknown kid or removed device. */
export async function address(x: Exchange): Promise<Answer> {
  const { jws, header } = parseFlattenedJws(bodyJson(x));
  checkAlgorithm(header.alg, MAC_ALGORITHMS);
  checkUrl(header, x.urls.address);
  const refused = new AcmeProblem('unauthorized', 'address refused: unknown key identifier, removed device or wrong MAC');
  const device = typeof header.kid === 'string' ? await x.opts.store.deviceByKid(header.kid) : null;
  if (!device || device.removedAt) throw refused;
  const text = await verifySignature(jws, header.alg, macKey(device.eabHmacKey), 'address').catch(() => {
    throw refused;
  });
  await checkNonce(header, (n) => x.opts.store.takeNonce(n, x.now));
  const addresses = checkAddresses(parsePayload(text));
  let names: string[];
  try {
    ({ names } = await x.opts.setAddresses(device, addresses));
  } catch (err) {
    throw new AcmeProblem('serverInternal', `address: ${(err as Error).message}`);
  }
  x.opts.log(`device ${device.id}: addresses set to ${addresses.join(' ')}`);
  return { status: 200, json: { device: device.id, names, addresses } };
}
