/**
 * A tiny DNS client for tests: one A or AAAA query over UDP (RFC 1035 §4, RFC 3596), answers
 * decoded just enough to read the addresses. It exists so tests can ask pebble-challtestsrv what
 * Pebble will see, or BIND what the broker wrote.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;

/** Encodes a standard recursive query for `name` (no trailing dot needed) of type A (or AAAA). */
export function encodeAQuery(id: number, name: string, type: 'A' | 'AAAA' = 'A'): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const labels = name.replace(/\.$/, '').split('.');
  const qname = Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type === 'A' ? TYPE_A : TYPE_AAAA, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, qname, tail]);
}

/** Returns the offset just past the (possibly compressed) name starting at `offset`. */
function skipName(msg: Buffer, offset: number): number {
  for (;;) {
    const len = msg.readUInt8(offset);
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2;
    offset += 1 + len;
  }
}

/** The parts of a DNS response this harness needs. */
export interface AAnswer {
  id: number;
  rcode: number;
  addresses: string[];
}

/** Decodes a response: its id, RCODE and the addresses of its A records (dotted) and AAAA records (RFC 5952 text). */
export function decodeAResponse(msg: Buffer): AAnswer {
  const id = msg.readUInt16BE(0);
  const rcode = msg.readUInt16BE(2) & 0x000f;
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < qdcount; i++) offset = skipName(msg, offset) + 4;
  const addresses: string[] = [];
  for (let i = 0; i < ancount; i++) {
    offset = skipName(msg, offset);
    const type = msg.readUInt16BE(offset);
    const rdlength = msg.readUInt16BE(offset + 8);
    const rdata = msg.subarray(offset + 10, offset + 10 + rdlength);
    if (type === TYPE_A && rdlength === 4) addresses.push([...rdata].join('.'));
    if (type === TYPE_AAAA && rdlength === 16) addresses.push(ipv6Text(rdata));
    offset += 10 + rdlength;
  }
  return { id, rcode, addresses };
}

/** RFC 5952 text of 16 address bytes: lower case, leading zeros dropped, the longest run of zero groups as `::`. */
function ipv6Text(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/**
 * Sends one A (or `type` AAAA) query for `name` to `server`:`port` over UDP and resolves with the decoded answer.
 * Replies with another id are ignored. Rejects on a socket error or no reply within `timeoutMs`.
 */
export async function queryA(server: string, port: number, name: string, timeoutMs = 2000, type: 'A' | 'AAAA' = 'A'): Promise<AAnswer> {
  const id = randomInt(0, 0x10000);
  const socket = createSocket('udp4');
  try {
    return await new Promise<AAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dns ${server}:${port}: no answer for ${name} ${type} in ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('message', (msg) => {
        const answer = decodeAResponse(msg);
        if (answer.id !== id) return; // a stale reply to an earlier query
        clearTimeout(timer);
        resolve(answer);
      });
      socket.send(encodeAQuery(id, name, type), port, server);
    });
  } finally {
    socket.close();
  }
}
