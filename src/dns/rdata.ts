/** RDATA codecs for the types this layer understands; everything else stays raw (RFC 3597). */
import { isIPv4, isIPv6 } from 'node:net';
import { DnsWireError } from './errors.ts';
import { encodeName } from './names.ts';
import { Reader, u16, u32, u48 } from './reader.ts';
import { RRType, type RData, type TsigRData } from './types.ts';

const MAX_STRING = 255;

/** The type number an RDATA value belongs to. */
export function rdataType(data: RData): number {
  return data.kind === 'raw' ? data.type : RRType[data.kind];
}

/** Encodes RDATA (names uncompressed). Throws DnsWireError for invalid addresses or names. */
export function encodeRData(data: RData): Buffer {
  switch (data.kind) {
    case 'A':
      if (!isIPv4(data.address)) throw new DnsWireError(`A record: ${data.address} is not an IPv4 address`);
      return Buffer.from(data.address.split('.').map(Number));
    case 'AAAA':
      return encodeIPv6(data.address);
    case 'NS':
      return encodeName(data.host);
    case 'CNAME':
      return encodeName(data.target);
    case 'SOA':
      return Buffer.concat([
        encodeName(data.mname),
        encodeName(data.rname),
        ...[data.serial, data.refresh, data.retry, data.expire, data.minimum].map(u32),
      ]);
    case 'TXT':
      return encodeTxt(data.strings);
    case 'raw':
      return data.bytes;
  }
}

/**
 * Character-strings of at most 255 octets each (RFC 1035 §3.3.14). A longer string is split,
 * at a UTF-8 character boundary, into consecutive strings; readers concatenate them again.
 */
function encodeTxt(strings: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of strings.length ? strings : ['']) {
    let bytes = Buffer.from(s, 'utf8');
    do {
      let cut = Math.min(bytes.length, MAX_STRING);
      // Never cut inside a multi-octet character: back up over continuation octets (10xxxxxx).
      while (cut < bytes.length && cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
      parts.push(Buffer.from([cut]), bytes.subarray(0, cut));
      bytes = bytes.subarray(cut);
    } while (bytes.length > 0);
  }
  return Buffer.concat(parts);
}

function encodeIPv6(address: string): Buffer {
  if (!isIPv6(address)) throw new DnsWireError(`AAAA record: ${address} is not an IPv6 address`);
  // The URL parser yields the RFC 5952 form: hex groups only, at most one "::".
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head, tail] = canonical.split('::');
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.concat(all.map((g) => u16(parseInt(g, 16))));
}

function decodeIPv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/**
 * Decodes RDATA of `type` occupying `length` octets at the reader's position; names may be
 * compressed against the whole message. An empty RDATA (update deletions) and unknown types
 * decode as `raw`. Throws DnsWireError if the data does not fill exactly `length` octets.
 */
export function decodeRData(r: Reader, type: number, length: number): RData {
  const start = r.pos;
  const sub = new Reader(r.buf, start, start + length);
  if (start + length > r.end) throw new DnsWireError(`RDATA at offset ${start}: runs past the end`);
  r.pos = start + length;
  if (length === 0) return { kind: 'raw', type, bytes: Buffer.alloc(0) };
  let data: RData;
  switch (type) {
    case RRType.A:
      data = { kind: 'A', address: [...sub.bytes(4, 'A address')].join('.') };
      break;
    case RRType.AAAA:
      data = { kind: 'AAAA', address: decodeIPv6(sub.bytes(16, 'AAAA address')) };
      break;
    case RRType.NS:
      data = { kind: 'NS', host: sub.name() };
      break;
    case RRType.CNAME:
      data = { kind: 'CNAME', target: sub.name() };
      break;
    case RRType.SOA:
      data = {
        kind: 'SOA', mname: sub.name(), rname: sub.name(), serial: sub.u32(), refresh: sub.u32(),
        retry: sub.u32(), expire: sub.u32(), minimum: sub.u32(),
      };
      break;
    case RRType.TXT: {
      const strings: string[] = [];
      while (sub.pos < sub.end) strings.push(sub.bytes(sub.u8('TXT length'), 'TXT string').toString('utf8'));
      data = { kind: 'TXT', strings };
      break;
    }
    default:
      data = { kind: 'raw', type, bytes: sub.bytes(length) };
  }
  if (sub.pos !== sub.end) {
    throw new DnsWireError(`${type} RDATA at offset ${start}: ${sub.end - sub.pos} octets left over`);
  }
  return data;
}

/** Encodes TSIG RDATA (RFC 8945 §4.2); the algorithm name is written uncompressed, lower case. */
export function encodeTsigRData(t: TsigRData): Buffer {
  return Buffer.concat([
    encodeName(t.algorithm, true),
    u48(t.timeSigned),
    u16(t.fudge),
    u16(t.mac.length),
    t.mac,
    u16(t.originalId),
    u16(t.error),
    u16(t.otherData.length),
    t.otherData,
  ]);
}

/** Decodes TSIG RDATA of `length` octets; throws DnsWireError when malformed. */
export function decodeTsigRData(r: Reader, length: number): TsigRData {
  const sub = new Reader(r.buf, r.pos, r.pos + length);
  if (sub.end > r.end) throw new DnsWireError(`TSIG RDATA at offset ${r.pos}: runs past the end`);
  const t: TsigRData = {
    algorithm: sub.name(),
    timeSigned: sub.u48('TSIG time'),
    fudge: sub.u16('TSIG fudge'),
    mac: sub.bytes(sub.u16('TSIG MAC size'), 'TSIG MAC'),
    originalId: sub.u16('TSIG original ID'),
    error: sub.u16('TSIG error'),
    otherData: sub.bytes(sub.u16('TSIG other length'), 'TSIG other data'),
  };
  if (sub.pos !== sub.end) throw new DnsWireError(`TSIG RDATA at offset ${r.pos}: octets left over`);
  r.pos = sub.end;
  return t;
}
