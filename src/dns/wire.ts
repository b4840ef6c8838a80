/**
 * DNS message codec (RFC 1035 §4.1) with EDNS(0) (RFC 6891) and TSIG extraction (RFC 8945).
 * Encoding writes names uncompressed, which every server accepts and TSIG requires for its own
 * record; decoding handles compression and checks every length against the message.
 */
import { DnsWireError } from './errors.ts';
import { encodeName } from './names.ts';
import { decodeRData, decodeTsigRData, encodeRData, rdataType } from './rdata.ts';
import { Reader, u16, u32 } from './reader.ts';
import { RRType, type DnsMessage, type Edns, type Question, type ResourceRecord } from './types.ts';

/** What `encodeMessage` needs; omitted flags are false, omitted sections empty. */
export type MessageInput = Partial<Omit<DnsMessage, 'tsig'>> & { id: number };

/** A resource record to encode; `type` defaults to the type of its RDATA. */
export type RecordInput = Omit<ResourceRecord, 'type'> & { type?: number };

/** Encodes one resource record (name uncompressed). Throws DnsWireError on bad names or data. */
export function encodeRecord(rr: RecordInput): Buffer {
  const rdata = encodeRData(rr.data);
  if (rdata.length > 0xffff) throw new DnsWireError(`record ${rr.name}: RDATA over 65535 octets`);
  return Buffer.concat([
    encodeName(rr.name),
    u16(rr.type ?? rdataType(rr.data)),
    u16(rr.class),
    u32(rr.ttl),
    u16(rdata.length),
    rdata,
  ]);
}

function encodeOpt(edns: Edns, rcode: number): Buffer {
  const options = Buffer.concat(edns.options.flatMap((o) => [u16(o.code), u16(o.data.length), o.data]));
  // RFC 6891 §6.1.3: TTL carries the upper 8 rcode bits, the version and the DO flag.
  const ttl = (((rcode >> 4) & 0xff) << 24) | ((edns.version & 0xff) << 16) | (edns.dnssecOk ? 0x8000 : 0);
  return Buffer.concat([Buffer.from([0]), u16(RRType.OPT), u16(edns.udpSize), u32(ttl), u16(options.length), options]);
}

/**
 * Encodes a message. An rcode above 15 needs `edns` (its upper bits live in OPT). Throws
 * DnsWireError on invalid names, data or flags.
 */
export function encodeMessage(m: MessageInput): Buffer {
  const rcode = m.rcode ?? 0;
  if (rcode > 15 && !m.edns) throw new DnsWireError(`rcode ${rcode} needs EDNS to be encoded`);
  const questions = m.questions ?? [];
  const sections = [m.answers ?? [], m.authorities ?? [], m.additionals ?? []];
  const flags =
    (m.qr ? 0x8000 : 0) |
    (((m.opcode ?? 0) & 0xf) << 11) |
    (m.aa ? 0x0400 : 0) |
    (m.tc ? 0x0200 : 0) |
    (m.rd ? 0x0100 : 0) |
    (m.ra ? 0x0080 : 0) |
    (m.ad ? 0x0020 : 0) |
    (m.cd ? 0x0010 : 0) |
    (rcode & 0xf);
  const additionalCount = sections[2].length + (m.edns ? 1 : 0);
  const header = Buffer.concat([
    u16(m.id),
    u16(flags),
    u16(questions.length),
    u16(sections[0].length),
    u16(sections[1].length),
    u16(additionalCount),
  ]);
  const body = [
    ...questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)])),
    ...sections.flat().map(encodeRecord),
    ...(m.edns ? [encodeOpt(m.edns, rcode)] : []),
  ];
  return Buffer.concat([header, ...body]);
}

/**
 * Decodes a message. OPT becomes `edns` (and extends `rcode`); a TSIG record must be the last
 * additional record (RFC 8945 §5.1) and becomes `tsig` with its offset. Throws DnsWireError on
 * any malformation: truncation, pointer loops, misplaced TSIG, several OPT records.
 */
export function decodeMessage(buf: Buffer): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16('header');
  const flags = r.u16('header');
  const counts = [r.u16('header'), r.u16('header'), r.u16('header'), r.u16('header')];
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) questions.push({ name: r.name(), type: r.u16('question'), class: r.u16('question') });
  const message: DnsMessage = {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    questions,
    answers: readRecords(r, counts[1]),
    authorities: readRecords(r, counts[2]),
    additionals: [],
  };
  for (let i = 0; i < counts[3]; i++) readAdditional(r, message, i === counts[3] - 1);
  return message;
}

function readRecords(r: Reader, count: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name();
    const type = r.u16('record type');
    const klass = r.u16('record class');
    const ttl = r.u32('record TTL');
    const data = decodeRData(r, type, r.u16('RDLENGTH'));
    out.push({ name, type, class: klass, ttl, data });
  }
  return out;
}

function readAdditional(r: Reader, message: DnsMessage, isLast: boolean): void {
  const offset = r.pos;
  const name = r.name();
  const type = r.u16('record type');
  const klass = r.u16('record class');
  const ttl = r.u32('record TTL');
  const length = r.u16('RDLENGTH');
  if (type === RRType.TSIG) {
    if (!isLast) throw new DnsWireError(`TSIG record at offset ${offset} is not the last record`);
    message.tsig = { name, offset, rdata: decodeTsigRData(r, length) };
  } else if (type === RRType.OPT) {
    if (message.edns) throw new DnsWireError(`second OPT record at offset ${offset}`);
    if (name !== '') throw new DnsWireError(`OPT record at offset ${offset} has a non-root owner`);
    message.edns = readOpt(r, klass, ttl, length);
    message.rcode |= (ttl >>> 24) << 4;
  } else {
    message.additionals.push({ name, type, class: klass, ttl, data: decodeRData(r, type, length) });
  }
}

function readOpt(r: Reader, udpSize: number, ttl: number, length: number): Edns {
  const sub = new Reader(r.buf, r.pos, r.pos + length);
  if (sub.end > r.end) throw new DnsWireError(`OPT RDATA at offset ${r.pos}: runs past the end`);
  const options: Edns['options'] = [];
  while (sub.pos < sub.end) {
    const code = sub.u16('OPT option code');
    options.push({ code, data: sub.bytes(sub.u16('OPT option length'), 'OPT option') });
  }
  r.pos = sub.end;
  return { udpSize, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options };
}
