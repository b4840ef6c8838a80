import { DnsWireError } from './errors.ts';
import { decodeName } from './names.ts';

/**
 * A bounds-checked cursor over a received message. Every read past `end` throws
 * DnsWireError, so a lying length field can never read outside the message or the RDATA.
 */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DnsWireError(`${what} at offset ${this.pos}: needs ${n} octets, ${this.end - this.pos} left`);
    }
  }

  /** Reads one octet. */
  u8(what = 'octet'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  /** Reads a 16-bit big-endian integer. */
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** Reads a 32-bit big-endian integer. */
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a 48-bit big-endian integer (TSIG time signed). */
  u48(what = 'u48'): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }

  /** Reads `n` octets as a copy. */
  bytes(n: number, what = 'data'): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Reads a possibly compressed name; its in-place labels must stay before `end`. */
  name(): string {
    const { name, next } = decodeName(this.buf, this.pos);
    if (next > this.end) throw new DnsWireError(`name at offset ${this.pos}: runs past its record`);
    this.pos = next;
    return name;
  }
}

/** A 16-bit big-endian integer. */
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** A 32-bit big-endian integer. */
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** A 48-bit big-endian integer. */
export function u48(v: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(v, 0, 6);
  return b;
}
