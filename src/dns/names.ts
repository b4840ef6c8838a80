/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4) and in presentation form with the
 * escapes of RFC 1035 §5.1. Encoding never compresses; decoding follows compression pointers
 * safely: every pointer must jump strictly before the start of the segment being read, so a
 * hostile message cannot loop, and every byte read is bounds-checked.
 */
import { DnsWireError } from './errors.ts';

const MAX_NAME = 255;
const MAX_LABEL = 63;

/** Lower-case form without the trailing dot, for comparisons and map keys. */
export function normalizeName(name: string): string {
  const trimmed = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  return trimmed.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** True when both names are equal ignoring ASCII case and a trailing dot. */
export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

/** Splits a presentation name into raw label bytes; throws DnsWireError on bad escapes or sizes. */
export function nameLabels(name: string): Buffer[] {
  const text = normalizeRoot(name);
  if (text === '') return [];
  const labels: Buffer[] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '.') {
      labels.push(finishLabel(current, name));
      current = [];
    } else if (ch === '\\') {
      const digits = /^\d{3}/.exec(text.slice(i + 1));
      if (digits) {
        const value = Number(digits[0]);
        if (value > 255) throw new DnsWireError(`name ${name}: escape \\${digits[0]} is over 255`);
        current.push(value);
        i += 3;
      } else if (i + 1 < text.length) {
        current.push(...Buffer.from(text[++i], 'utf8'));
      } else {
        throw new DnsWireError(`name ${name}: ends in a lone backslash`);
      }
    } else {
      current.push(...Buffer.from(ch, 'utf8'));
    }
  }
  labels.push(finishLabel(current, name));
  return labels;
}

function normalizeRoot(name: string): string {
  if (name === '.' || name === '') return '';
  return name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
}

function finishLabel(bytes: number[], name: string): Buffer {
  if (bytes.length === 0) throw new DnsWireError(`name ${name}: empty label`);
  if (bytes.length > MAX_LABEL) throw new DnsWireError(`name ${name}: label over ${MAX_LABEL} octets`);
  return Buffer.from(bytes);
}

/** Uncompressed wire form; `lowercase` gives the canonical form TSIG digests (RFC 8945 §4.3.3). */
export function encodeName(name: string, lowercase = false): Buffer {
  const parts: Buffer[] = [];
  for (const label of nameLabels(name)) {
    const bytes = lowercase ? Buffer.from(label.map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b))) : label;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME) throw new DnsWireError(`name ${name}: over ${MAX_NAME} octets`);
  return wire;
}

/**
 * Reads a possibly compressed name at `offset` of `buf`. Returns the name and the offset just
 * after it in the original stream. Throws DnsWireError on truncation, forward or looping
 * pointers, reserved label types, or names over 255 octets.
 */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let segmentStart = offset;
  let next = -1;
  let wireLength = 1;
  for (;;) {
    if (pos >= buf.length) throw new DnsWireError(`name at ${offset}: runs past the end of the message`);
    const len = buf[pos];
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsWireError(`name at ${offset}: pointer cut off`);
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      // Pointers may only point backwards, before the segment being read (RFC 1035 §4.1.4
      // "prior occurrence"); this makes every chain finite.
      if (target >= segmentStart) throw new DnsWireError(`name at ${offset}: pointer to ${target} does not point backwards`);
      if (next < 0) next = pos + 2;
      pos = target;
      segmentStart = target;
      continue;
    }
    if (kind !== 0) throw new DnsWireError(`name at ${offset}: reserved label type 0x${kind.toString(16)}`);
    if (pos + 1 + len > buf.length) throw new DnsWireError(`name at ${offset}: label runs past the end`);
    wireLength += len + 1;
    if (wireLength > MAX_NAME) throw new DnsWireError(`name at ${offset}: over ${MAX_NAME} octets`);
    labels.push(escapeLabel(buf.subarray(pos + 1, pos + 1 + len)));
    pos += len + 1;
  }
  return { name: labels.join('.'), next };
}

function escapeLabel(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return out;
}

/** The parent of a name (`a.b.c` → `b.c`), or undefined for the root. Escaped dots are kept. */
export function parentName(name: string): string | undefined {
  const text = normalizeRoot(name);
  if (text === '') return undefined;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '.') return text.slice(i + 1);
  }
  return '';
}
