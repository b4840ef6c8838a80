import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsWireError } from '../../../src/dns/errors.ts';
import { decodeName, encodeName, normalizeName, parentName, sameName } from '../../../src/dns/names.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('encodeName', () => {
  const cases = [
    { desc: 'plain name', name: 'int.example.com', wire: '03696e74 076578616d706c65 03636f6d 00' },
    { desc: 'trailing dot is the same name', name: 'int.example.com.', wire: '03696e74 076578616d706c65 03636f6d 00' },
    { desc: 'root', name: '', wire: '00' },
    { desc: 'root as a dot', name: '.', wire: '00' },
    { desc: 'escaped dot stays in its label', name: 'a\\.b.c', wire: '03612e62 0163 00' },
    { desc: 'decimal escape', name: 'a\\032b', wire: '03612062 00' },
  ];
  for (const c of cases) {
    it(c.desc, () => assert.deepEqual(encodeName(c.name), hex(c.wire)));
  }

  it('lower-cases only when asked (TSIG canonical form)', () => {
    assert.deepEqual(encodeName('Key.Example', true), encodeName('key.example'));
    assert.notDeepEqual(encodeName('Key.Example'), encodeName('key.example'));
  });

  const bad = [
    { desc: 'label over 63 octets', name: `${'a'.repeat(64)}.com` },
    { desc: 'name over 255 octets', name: Array(5).fill('a'.repeat(63)).join('.') },
    { desc: 'empty label', name: 'a..b' },
    { desc: 'escape over 255', name: 'a\\300' },
  ];
  for (const c of bad) {
    it(`rejects ${c.desc}`, () => assert.throws(() => encodeName(c.name), DnsWireError));
  }
});

describe('decodeName', () => {
  it('follows a compression pointer and reports where the name ended', () => {
    // "example.com" at 0, then "www" + pointer to 0 at 13.
    const buf = hex('076578616d706c6503636f6d00 03777777c000');
    assert.deepEqual(decodeName(buf, 0), { name: 'example.com', next: 13 });
    assert.deepEqual(decodeName(buf, 13), { name: 'www.example.com', next: 19 });
  });

  it('follows chained pointers that keep going backwards', () => {
    // com at 0; example+ptr(0) at 5; www+ptr(5) at 15
    const buf = hex('03636f6d00 076578616d706c65c000 03777777c005');
    assert.equal(decodeName(buf, 15).name, 'www.example.com');
  });

  it('escapes dots, backslashes and unprintable octets it finds in labels', () => {
    const buf = hex('03612e62 025c20 00');
    const { name } = decodeName(buf, 0);
    assert.equal(name, 'a\\.b.\\\\\\032');
    assert.deepEqual(encodeName(name), buf);
  });

  const malicious = [
    { desc: 'a pointer to itself', buf: 'c000', at: 0 },
    { desc: 'a loop through a label', buf: '0161c000', at: 0 },
    { desc: 'two pointers pointing at each other', buf: '00 c003 c001', at: 3 },
    { desc: 'a forward pointer', buf: 'c002 0161 00', at: 0 },
    { desc: 'a pointer cut off at the end', buf: '0161c0', at: 0 },
    { desc: 'a label running past the end', buf: '0561626364', at: 0 },
    { desc: 'no terminating zero', buf: '016101620163', at: 0 },
    { desc: 'a reserved label type', buf: '4161 00', at: 0 },
    { desc: 'an offset past the end', buf: '00', at: 5 },
  ];
  for (const c of malicious) {
    it(`rejects ${c.desc}`, () => assert.throws(() => decodeName(hex(c.buf), c.at), DnsWireError));
  }

  it('rejects names that only exceed 255 octets through pointers', () => {
    // 4 labels of 63 (256 octets with lengths) at 0, then one more label + pointer.
    const part = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
    const buf = Buffer.concat([part, part, part, part, Buffer.from([0]), Buffer.from([1, 0x62, 0xc0, 0])]);
    assert.throws(() => decodeName(buf, 257), /over 255/);
  });
});

describe('name helpers', () => {
  it('compares case-insensitively and ignores the trailing dot', () => {
    assert.ok(sameName('WWW.Example.COM.', 'www.example.com'));
    assert.ok(!sameName('www.example.com', 'example.com'));
    assert.equal(normalizeName('A.B.'), 'a.b');
  });

  it('walks up to the root', () => {
    assert.equal(parentName('a.b.c'), 'b.c');
    assert.equal(parentName('c'), '');
    assert.equal(parentName(''), undefined);
    assert.equal(parentName('a\\.b.c'), 'c');
  });
});
