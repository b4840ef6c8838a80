import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsWireError } from '../../../src/dns/errors.ts';
import { RRClass, RRType, txtValue, type RData, type ResourceRecord } from '../../../src/dns/types.ts';
import { encodeUpdate } from '../../../src/dns/update.ts';
import { decodeMessage, encodeMessage } from '../../../src/dns/wire.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const rr = (name: string, data: RData, ttl = 60): ResourceRecord => ({
  name,
  type: data.kind === 'raw' ? data.type : RRType[data.kind],
  class: RRClass.IN,
  ttl,
  data,
});

describe('message round trips', () => {
  const records: { desc: string; data: RData }[] = [
    { desc: 'A', data: { kind: 'A', address: '192.0.2.7' } },
    { desc: 'AAAA compressed', data: { kind: 'AAAA', address: '2001:db8::1' } },
    { desc: 'AAAA loopback', data: { kind: 'AAAA', address: '::1' } },
    { desc: 'NS', data: { kind: 'NS', host: 'ns1.example.com' } },
    { desc: 'CNAME', data: { kind: 'CNAME', target: '_acme-challenge.www.validation.test' } },
    {
      desc: 'SOA',
      data: {
        kind: 'SOA', mname: 'ns.example.com', rname: 'hostmaster.example.com', serial: 4294967295,
        refresh: 3600, retry: 600, expire: 86400, minimum: 60,
      },
    },
    { desc: 'TXT with several strings', data: { kind: 'TXT', strings: ['v=spf1', '-all'] } },
    { desc: 'TXT empty string', data: { kind: 'TXT', strings: [''] } },
    { desc: 'unknown type kept raw', data: { kind: 'raw', type: 65280, bytes: hex('deadbeef') } },
  ];
  for (const c of records) {
    it(c.desc, () => {
      const message = {
        id: 0x1234, qr: true, aa: true, rd: true, ra: false,
        questions: [{ name: 'example.com', type: RRType.ANY, class: RRClass.IN }],
        answers: [rr('example.com', c.data)],
      };
      const decoded = decodeMessage(encodeMessage(message));
      assert.equal(decoded.id, 0x1234);
      assert.deepEqual([decoded.qr, decoded.aa, decoded.rd, decoded.ra, decoded.tc], [true, true, true, false, false]);
      assert.deepEqual(decoded.questions, message.questions);
      assert.deepEqual(decoded.answers, message.answers);
    });
  }

  it('keeps every header flag and the opcode apart', () => {
    const flags = { qr: true, aa: true, tc: true, rd: true, ra: true, ad: true, cd: true };
    const decoded = decodeMessage(encodeMessage({ id: 1, opcode: 5, rcode: 9, ...flags }));
    assert.deepEqual(
      { qr: decoded.qr, aa: decoded.aa, tc: decoded.tc, rd: decoded.rd, ra: decoded.ra, ad: decoded.ad, cd: decoded.cd },
      flags,
    );
    assert.equal(decoded.opcode, 5);
    assert.equal(decoded.rcode, 9);
  });

  it('splits a TXT value over 255 octets into strings that join back', () => {
    const value = 'x'.repeat(300) + 'é'.repeat(200);
    const wire = encodeMessage({ id: 1, answers: [rr('t.example', { kind: 'TXT', strings: [value] })] });
    const data = decodeMessage(wire).answers[0].data;
    assert.equal(data.kind, 'TXT');
    assert.ok(data.kind === 'TXT' && data.strings.length === 3 && data.strings.every((s) => Buffer.byteLength(s) <= 255));
    assert.equal(txtValue(data), value);
  });

  it('carries the extended rcode in OPT (RFC 6891 §6.1.3)', () => {
    const edns = { udpSize: 1232, version: 0, dnssecOk: true, options: [{ code: 10, data: hex('0102030405060708') }] };
    const decoded = decodeMessage(encodeMessage({ id: 7, qr: true, rcode: 16, edns }));
    assert.equal(decoded.rcode, 16);
    assert.deepEqual(decoded.edns, edns);
    assert.deepEqual(decoded.additionals, []);
    assert.throws(() => encodeMessage({ id: 7, rcode: 16 }), DnsWireError);
  });
});

describe('decodeMessage on received bytes', () => {
  // BIND's answer to `_acme-challenge.vector.example TXT`, OPT and TSIG removed: the answer
  // owner is the compression pointer c00c.
  const answer = hex(
    'b86b85000001000100000000 0f5f61636d652d6368616c6c656e676506766563746f72076578616d706c6500 00100001' +
      'c00c 0010 0001 0000003c 000c 0b7473696720766563746f72',
  );

  it('decodes a compressed answer owner', () => {
    const m = decodeMessage(answer);
    assert.equal(m.answers[0].name, '_acme-challenge.vector.example');
    assert.equal(txtValue(m.answers[0].data), 'tsig vector');
  });

  const broken = [
    { desc: 'a header cut short', wire: hex('b86b8500') },
    { desc: 'RDLENGTH past the end', wire: Buffer.concat([answer.subarray(0, answer.length - 1)]) },
    { desc: 'a TXT string longer than its RDATA', wire: Buffer.from(answer).fill(0x0c, answer.length - 12, answer.length - 11) },
    { desc: 'a counted record that is missing', wire: Buffer.from(answer).fill(0x02, 7, 8) },
    { desc: 'an answer owner pointing at itself', wire: Buffer.from(answer).fill(0x30, 49, 50) },
  ];
  for (const c of broken) {
    it(`rejects ${c.desc}`, () => assert.throws(() => decodeMessage(c.wire), DnsWireError));
  }

  it('rejects a TSIG record that is not the last additional record', () => {
    const tsigThenA = encodeMessage({
      id: 1,
      additionals: [
        { name: 'k', type: RRType.TSIG, class: RRClass.ANY, ttl: 0, data: { kind: 'raw', type: RRType.TSIG, bytes: hex('00') } },
        rr('a.example', { kind: 'A', address: '192.0.2.1' }),
      ],
    });
    assert.throws(() => decodeMessage(tsigThenA), /not the last/);
  });
});

describe('encodeUpdate (RFC 2136)', () => {
  const txt: RData = { kind: 'TXT', strings: ['v1'] };
  const owner = '_acme-challenge.int.example.com';

  it('puts the zone in the question with type SOA and opcode UPDATE', () => {
    const m = decodeMessage(encodeUpdate(9, 'int.example.com', []));
    assert.equal(m.opcode, 5);
    assert.deepEqual(m.questions, [{ name: 'int.example.com', type: RRType.SOA, class: RRClass.IN }]);
  });

  const ops = [
    { desc: 'add: zone class and TTL', op: { kind: 'add', name: owner, ttl: 60, data: txt }, klass: RRClass.IN, ttl: 60, rdata: '027631' },
    { desc: 'delete one RR: class NONE, TTL 0, same RDATA', op: { kind: 'delete', name: owner, data: txt }, klass: RRClass.NONE, ttl: 0, rdata: '027631' },
    { desc: 'delete an RRset: class ANY, empty RDATA', op: { kind: 'delete-rrset', name: owner, type: RRType.TXT }, klass: RRClass.ANY, ttl: 0, rdata: '' },
  ] as const;
  for (const c of ops) {
    it(c.desc, () => {
      const wire = encodeUpdate(9, 'int.example.com', [c.op]);
      const tail = wire.subarray(wire.length - (10 + c.rdata.length / 2));
      const expected = Buffer.concat([
        Buffer.from([0x00, RRType.TXT, c.klass >> 8, c.klass & 0xff, 0, 0, 0, c.ttl]),
        Buffer.from([0, c.rdata.length / 2]),
        hex(c.rdata),
      ]);
      assert.deepEqual(tail, expected);
      const m = decodeMessage(wire);
      assert.equal(m.authorities.length, 1);
      assert.equal(m.authorities[0].name, owner);
    });
  }

  it('encodes prerequisites into the answer section', () => {
    const m = decodeMessage(
      encodeUpdate(9, 'int.example.com', [], [{ kind: 'name-absent', name: owner }, { kind: 'rrset-exists', name: owner, type: RRType.TXT }]),
    );
    assert.deepEqual(
      m.answers.map((r) => [r.class, r.type]),
      [[RRClass.NONE, RRType.ANY], [RRClass.ANY, RRType.TXT]],
    );
  });
});
