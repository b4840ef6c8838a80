/**
 * DNS message model shared by the codec, TSIG, the client and the DNS-01 helpers.
 * Names are presentation strings without the trailing dot (`int.example.com`, root is `''`);
 * labels holding `.`, `\` or non-printable bytes use RFC 1035 §5.1 escapes (`\.`, `\DDD`).
 */

/** Resource record types this layer knows by name (RFC 1035, 3596, 6891, 8945). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  TSIG: 250,
  ANY: 255,
} as const;

/** Classes: IN for data, NONE and ANY carry RFC 2136 update and prerequisite meanings. */
export const RRClass = { IN: 1, NONE: 254, ANY: 255 } as const;

/** Header opcodes used here. */
export const Opcode = { QUERY: 0, UPDATE: 5 } as const;

/** The mnemonic of a known type number, or `TYPE<n>` (RFC 3597 §5) for others. */
export function typeName(type: number): string {
  const found = Object.entries(RRType).find(([, n]) => n === type);
  return found ? found[0] : `TYPE${type}`;
}

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE', 16: 'BADVERS',
  23: 'BADCOOKIE',
};

/** TSIG error field names (RFC 8945 §3, IANA "DNS RCODEs"); 16 means BADSIG here. */
const TSIG_ERROR_NAMES: Record<number, string> = {
  16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG',
  22: 'BADTRUNC',
};

/** Name of a (possibly extended) message rcode, e.g. 5 → `REFUSED`; unknown → `RCODE<n>`. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Name of a TSIG error field value, e.g. 16 → `BADSIG`; 0 → `NOERROR`. */
export function tsigErrorName(error: number): string {
  return TSIG_ERROR_NAMES[error] ?? rcodeName(error);
}

/** RDATA by type; `raw` keeps unknown types and the empty RDATA of update deletions. */
export type RData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'NS'; host: string }
  | { kind: 'CNAME'; target: string }
  | {
      kind: 'SOA';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  /** Character-strings as sent; a DNS-01 value is their concatenation (see `txtValue`). */
  | { kind: 'TXT'; strings: string[] }
  | { kind: 'raw'; type: number; bytes: Buffer };

/** A question; in an UPDATE message the single question is the zone (RFC 2136 §2.3). */
export interface Question {
  name: string;
  type: number;
  class: number;
}

/** A resource record as it appears in a section. */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

/** EDNS(0) parameters carried by the OPT pseudo-record (RFC 6891 §6.1.3). */
export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  options: { code: number; data: Buffer }[];
}

/** The TSIG record's RDATA (RFC 8945 §4.2). */
export interface TsigRData {
  algorithm: string;
  /** Seconds since the epoch (48 bits on the wire). */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

/**
 * A decoded or to-be-encoded message. In UPDATE messages (RFC 2136 §2) `questions` is the
 * zone section, `answers` the prerequisites and `authorities` the updates.
 */
export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** Full rcode: header bits plus the OPT record's extended bits when EDNS is present. */
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  /** Additional records other than OPT and TSIG, which get their own fields. */
  additionals: ResourceRecord[];
  edns?: Edns;
  /** Present only on decode: the TSIG record and the byte offset where it starts. */
  tsig?: { name: string; offset: number; rdata: TsigRData };
}

/** The concatenated value of a TXT record's character-strings (RFC 8555 §8.4 compares this). */
export function txtValue(data: RData): string | undefined {
  return data.kind === 'TXT' ? data.strings.join('') : undefined;
}
