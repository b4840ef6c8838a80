import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsigError } from '../../../src/dns/errors.ts';
import { encodeTsigRData } from '../../../src/dns/rdata.ts';
import { signMessage, verifyMessage, type TsigKey } from '../../../src/dns/tsig.ts';
import { RRClass, RRType } from '../../../src/dns/types.ts';
import { decodeMessage, encodeMessage } from '../../../src/dns/wire.ts';
import { KEY_NAME, TSIG_VECTORS } from './tsig-vectors.ts';

const keyOf = (v: (typeof TSIG_VECTORS)[number]): TsigKey => ({ name: KEY_NAME, algorithm: v.algorithm, secret: v.secret });

/** The message before signing: bytes before the TSIG record, ARCOUNT less one. */
function unsigned(wire: Buffer): Buffer {
  const m = decodeMessage(wire);
  const copy = Buffer.from(wire.subarray(0, m.tsig?.offset));
  copy.writeUInt16BE(copy.readUInt16BE(10) - 1, 10);
  return copy;
}

describe('TSIG against BIND-signed vectors', () => {
  for (const v of TSIG_VECTORS) {
    const key = keyOf(v);
    const request = Buffer.from(v.request, 'hex');
    const response = Buffer.from(v.response, 'hex');
    const now = v.timeSigned * 1000;
    const requestMac = decodeMessage(request).tsig?.rdata.mac as Buffer;

    it(`${v.algorithm}: signing dig's unsigned query reproduces dig's bytes`, () => {
      const signed = signMessage(unsigned(request), key, { now });
      assert.equal(signed.wire.toString('hex'), v.request);
      assert.deepEqual(signed.mac, requestMac);
    });

    it(`${v.algorithm}: verifies named's answer with the request MAC`, () => {
      assert.doesNotThrow(() => verifyMessage(response, decodeMessage(response), key, { requestMac, now }));
    });

    it(`${v.algorithm}: rejects the answer when one octet changed`, () => {
      const tampered = Buffer.from(response);
      tampered[40] ^= 1;
      assert.throws(
        () => verifyMessage(tampered, decodeMessage(tampered), key, { requestMac, now }),
        (e: unknown) => e instanceof TsigError && e.code === 'BADSIG' && !e.fromServer,
      );
    });

    it(`${v.algorithm}: rejects the answer verified against another request MAC`, () => {
      const other = Buffer.from(requestMac);
      other[0] ^= 1;
      assert.throws(() => verifyMessage(response, decodeMessage(response), key, { requestMac: other, now }), { code: 'BADSIG' });
    });
  }
});

describe('verifyMessage', () => {
  const key: TsigKey = { name: 'k1.example', algorithm: 'hmac-sha512', secret: Buffer.alloc(64, 7).toString('base64') };
  const now = Date.UTC(2026, 10, 1);
  const request = signMessage(encodeMessage({ id: 42, questions: [{ name: 'a.example', type: 16, class: 1 }] }), key, { now });
  const answerFor = (opts: { now?: number; key?: TsigKey; requestMac?: Buffer } = {}) =>
    signMessage(encodeMessage({ id: 42, qr: true, questions: [{ name: 'a.example', type: 16, class: 1 }] }), opts.key ?? key, {
      now: opts.now ?? now,
      requestMac: opts.requestMac ?? request.mac,
    }).wire;
  const verify = (wire: Buffer, at = now, k = key) => verifyMessage(wire, decodeMessage(wire), k, { requestMac: request.mac, now: at });

  const cases: { desc: string; run: () => void; code: string }[] = [
    { desc: 'an unsigned answer', run: () => verify(encodeMessage({ id: 42, qr: true })), code: 'UNSIGNED' },
    { desc: 'an answer signed 301 s earlier than our clock', run: () => verify(answerFor({ now: now - 301_000 })), code: 'BADTIME' },
    { desc: 'an answer signed 301 s later than our clock', run: () => verify(answerFor({ now: now + 301_000 })), code: 'BADTIME' },
    { desc: 'an answer signed with another key name', run: () => verify(answerFor({ key: { ...key, name: 'other' } })), code: 'BADKEY' },
    { desc: 'an answer signed with another algorithm', run: () => verify(answerFor({ key: { ...key, algorithm: 'hmac-sha256' } })), code: 'BADKEY' },
    { desc: 'an answer signed with another secret', run: () => verify(answerFor({ key: { ...key, secret: 'c2VjcmV0' } })), code: 'BADSIG' },
    { desc: 'a key whose secret is not base64', run: () => verify(answerFor(), now, { ...key, secret: 'not base64!' }), code: 'BADSECRET' },
  ];
  for (const c of cases) {
    it(`rejects ${c.desc} with ${c.code}`, () => assert.throws(c.run, (e: unknown) => e instanceof TsigError && e.code === c.code));
  }

  it('accepts an answer signed within the fudge', () => {
    assert.doesNotThrow(() => verify(answerFor({ now: now - 299_000 })));
  });

  it('maps the error field of an unsigned server error (RFC 8945 §5.3.2)', () => {
    // What a server sends for a bad signature: NOTAUTH, TSIG error 16 (BADSIG), empty MAC.
    const rdata = encodeTsigRData({
      algorithm: key.algorithm, timeSigned: now / 1000, fudge: 300, mac: Buffer.alloc(0), originalId: 42,
      error: 16, otherData: Buffer.alloc(0),
    });
    const tsigRecord = { name: key.name, type: RRType.TSIG, class: RRClass.ANY, ttl: 0, data: { kind: 'raw' as const, type: RRType.TSIG, bytes: rdata } };
    const wire = encodeMessage({ id: 42, qr: true, rcode: 9, additionals: [tsigRecord] });
    assert.throws(
      () => verify(wire),
      (e: unknown) => e instanceof TsigError && e.code === 'BADSIG' && e.fromServer && /server reported BADSIG/.test(e.message),
    );
  });

  it('never puts the secret in an error message', () => {
    const secret = Buffer.alloc(32, 9).toString('base64');
    const messages: string[] = [];
    for (const run of [
      () => verify(answerFor(), now, { ...key, secret }),
      () => verify(answerFor(), now, { ...key, secret: `${secret}!` }),
      () => signMessage(Buffer.alloc(12), { ...key, algorithm: 'hmac-md5' as never, secret }),
    ]) {
      try {
        run();
      } catch (e) {
        messages.push(String(e), JSON.stringify(e));
      }
    }
    assert.equal(messages.length, 6);
    for (const m of messages) assert.ok(!m.includes(secret) && !m.includes(secret.slice(0, 12)), m);
  });
});
