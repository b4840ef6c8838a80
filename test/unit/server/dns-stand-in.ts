/**
 * A stand-in DNS server for tests: answers A and AAAA queries over UDP from a fixed map, NXDOMAIN
 * for unknown names, an empty NOERROR answer for known names without that record type, and no
 * answer at all for names mapped to `'drop'`. Just enough of RFC 1035 for Node's resolver; not a
 * DNS server.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  while (msg[at] !== 0) {
    labels.push(msg.subarray(at + 1, at + 1 + msg[at]).toString('latin1'));
    at += 1 + msg[at];
  }
  return { name: labels.join('.').toLowerCase(), end: at + 1 };
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  const [head, tail = ''] = address.split('::');
  const groups = (s: string): string[] => (s ? s.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array(missing).fill('0'), ...groups(tail)];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function answer(query: Buffer, records: ReadonlyMap<string, string[]>): Buffer {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const known = records.get(name);
  const family = qtype === TYPE_A ? 4 : qtype === TYPE_AAAA ? 6 : 0;
  const addresses = (known ?? []).filter((a) => isIP(a) === family);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // response, RD+RA, NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const rrs = addresses.map((address) => {
    const rdata = ipBytes(address);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, end + 4), ...rrs]);
}

/** Starts the stand-in on 127.0.0.1; `address` is `127.0.0.1:<port>` for `resolver`. */
export async function startDnsStandIn(records: Record<string, string[] | 'drop'>): Promise<{ address: string; close: () => Promise<void> }> {
  const map = new Map<string, string[]>();
  const drop = new Set<string>();
  for (const [name, value] of Object.entries(records)) {
    if (value === 'drop') drop.add(name.toLowerCase());
    else map.set(name.toLowerCase(), value);
  }
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    try {
      if (drop.has(readName(msg, 12).name)) return;
      socket.send(answer(msg, map), peer.port, peer.address);
    } catch {
      // Malformed query: a real server would answer FORMERR; the tests never send one.
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
