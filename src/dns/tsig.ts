/**
 * TSIG (RFC 8945) with HMAC-SHA256/384/512. Requests are signed after encoding, by appending
 * the TSIG record; answers are verified against the request's MAC. The secret is decoded only
 * here and never appears in an error message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TsigError } from './errors.ts';
import { encodeName, sameName } from './names.ts';
import { encodeTsigRData } from './rdata.ts';
import { u16, u32, u48 } from './reader.ts';
import { RRClass, RRType, tsigErrorName, type DnsMessage } from './types.ts';

/** HMAC algorithms supported, named as on the wire and in BIND's key statements. */
export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** A TSIG key as BIND's `tsig-keygen` prints it; `secret` is base64. */
export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: string;
}

/** Time options; `now` is milliseconds since the epoch, `fudge` seconds (default 300). */
export interface TsigTimeOptions {
  now?: number;
  fudge?: number;
}

/** Fudge (allowed clock skew) in seconds, as RFC 8945 §10 recommends. */
export const DEFAULT_FUDGE = 300;

const HASHES: Record<TsigAlgorithm, string> = {
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

function hashOf(key: TsigKey): string {
  const hash = HASHES[key.algorithm.toLowerCase().replace(/\.$/, '') as TsigAlgorithm];
  if (!hash) throw new TsigError('BADALG', `tsig key ${key.name}: unsupported algorithm ${key.algorithm}`);
  return hash;
}

function secretBytes(key: TsigKey): Buffer {
  const text = key.secret.trim();
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || bytes.length === 0) {
    throw new TsigError('BADSECRET', `tsig key ${key.name}: secret is not valid base64`);
  }
  return bytes;
}

/** RFC 8945 §4.3.3 "TSIG Variables", in canonical (lower-case, uncompressed) form. */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    encodeName(key.name, true),
    u16(RRClass.ANY),
    u32(0),
    encodeName(key.algorithm, true),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(hashOf(key), secretBytes(key));
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `u16(length) + MAC` of the request, the prefix of an answer's digest (RFC 8945 §4.3.1). */
function requestMacPrefix(requestMac: Buffer | undefined): Buffer[] {
  return requestMac ? [u16(requestMac.length), requestMac] : [];
}

/**
 * Signs an encoded message: appends a TSIG record and counts it in ARCOUNT. Pass
 * `requestMac` to sign an answer. Returns the signed wire and its MAC, which the caller keeps to
 * verify the answer. Throws TsigError (BADALG, BADSECRET) for an unusable key.
 */
export function signMessage(
  wire: Buffer,
  key: TsigKey,
  opts: TsigTimeOptions & { requestMac?: Buffer } = {},
): { wire: Buffer; mac: Buffer } {
  const timeSigned = Math.floor((opts.now ?? Date.now()) / 1000);
  const fudge = opts.fudge ?? DEFAULT_FUDGE;
  const empty = Buffer.alloc(0);
  const mac = hmac(key, [...requestMacPrefix(opts.requestMac), wire, variables(key, timeSigned, fudge, 0, empty)]);
  const rdata = encodeTsigRData({
    algorithm: key.algorithm,
    timeSigned,
    fudge,
    mac,
    originalId: wire.readUInt16BE(0),
    error: 0,
    otherData: empty,
  });
  const record = Buffer.concat([encodeName(key.name, true), u16(RRType.TSIG), u16(RRClass.ANY), u32(0), u16(rdata.length), rdata]);
  const signed = Buffer.concat([wire, record]);
  signed.writeUInt16BE(wire.readUInt16BE(10) + 1, 10);
  return { wire: signed, mac };
}

/**
 * Verifies the TSIG of a decoded message (`wire` is what was received). For an answer pass the
 * request's MAC as `requestMac`. Returns normally when the MAC matches and the time is within
 * the fudge. Throws TsigError: UNSIGNED (no TSIG), BADKEY (other key or algorithm), the
 * server's own error (BADSIG, BADKEY, BADTIME… with `fromServer`), BADTRUNC (shortened MAC),
 * BADSIG (MAC mismatch), BADTIME (clock outside fudge).
 */
export function verifyMessage(
  wire: Buffer,
  message: DnsMessage,
  key: TsigKey,
  opts: TsigTimeOptions & { requestMac?: Buffer } = {},
): void {
  const tsig = message.tsig;
  if (!tsig) throw new TsigError('UNSIGNED', `tsig key ${key.name}: the answer is not signed`);
  const t = tsig.rdata;
  if (!sameName(tsig.name, key.name) || !sameName(t.algorithm, key.algorithm)) {
    throw new TsigError('BADKEY', `tsig key ${key.name}: answer signed with key ${tsig.name} (${t.algorithm})`);
  }
  if (t.error !== 0) {
    const name = tsigErrorName(t.error);
    const serverTime = t.otherData.length === 6 ? `, server time ${new Date(t.otherData.readUIntBE(0, 6) * 1000).toISOString()}` : '';
    throw new TsigError(name, `tsig key ${key.name}: server reported ${name}${serverTime}`, true);
  }
  const expected = hmac(key, [
    ...requestMacPrefix(opts.requestMac),
    unsignedCopy(wire, tsig.offset, t.originalId),
    variables(key, t.timeSigned, t.fudge, t.error, t.otherData),
  ]);
  if (t.mac.length !== expected.length) {
    const code = t.mac.length > 0 && t.mac.length < expected.length ? 'BADTRUNC' : 'BADSIG';
    throw new TsigError(code, `tsig key ${key.name}: MAC is ${t.mac.length} octets, expected ${expected.length}`);
  }
  if (!timingSafeEqual(t.mac, expected)) throw new TsigError('BADSIG', `tsig key ${key.name}: MAC does not match`);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const fudge = opts.fudge ?? DEFAULT_FUDGE;
  if (Math.abs(now - t.timeSigned) > fudge) {
    throw new TsigError('BADTIME', `tsig key ${key.name}: signed ${now - t.timeSigned} s from our clock, fudge ${fudge} s`);
  }
}

/** The message as it was before signing: TSIG cut off, ARCOUNT less one, original ID back. */
function unsignedCopy(wire: Buffer, tsigOffset: number, originalId: number): Buffer {
  const copy = Buffer.from(wire.subarray(0, tsigOffset));
  copy.writeUInt16BE(originalId, 0);
  copy.writeUInt16BE(copy.readUInt16BE(10) - 1, 10);
  return copy;
}
