import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { query, sendUpdate } from '../../../src/dns/client.ts';
import { DnsError } from '../../../src/dns/errors.ts';
import { signMessage, type TsigKey } from '../../../src/dns/tsig.ts';
import { RRClass, RRType, type DnsMessage } from '../../../src/dns/types.ts';
import { decodeMessage, encodeMessage } from '../../../src/dns/wire.ts';

type Handler = (request: DnsMessage, wire: Buffer, transport: 'udp' | 'tcp') => Buffer[];

/** A scripted DNS server on 127.0.0.1, UDP and TCP on one port; each test sets `handler`. */
class FakeServer {
  handler: Handler = () => [];
  received: { transport: 'udp' | 'tcp'; id: number }[] = [];
  port = 0;
  private udp!: Socket;
  private tcp!: Server;

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.udp = createSocket('udp4');
      await new Promise<void>((resolve) => this.udp.bind(0, '127.0.0.1', resolve));
      this.port = this.udp.address().port;
      this.tcp = createServer((socket) => {
        socket.once('data', (data) => {
          for (const out of this.handle(data.subarray(2), 'tcp')) {
            socket.write(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out]));
          }
        });
      });
      const listening = await new Promise<boolean>((resolve) => {
        this.tcp.once('error', () => resolve(false));
        this.tcp.listen(this.port, '127.0.0.1', () => resolve(true));
      });
      if (listening) break;
      this.udp.close();
      if (attempt > 10) throw new Error('no port free for UDP and TCP');
    }
    this.udp.on('message', (data, peer) => {
      for (const out of this.handle(data, 'udp')) this.udp.send(out, peer.port, peer.address);
    });
  }

  private handle(wire: Buffer, transport: 'udp' | 'tcp'): Buffer[] {
    const request = decodeMessage(wire);
    this.received.push({ transport, id: request.id });
    return this.handler(request, wire, transport);
  }

  stop(): void {
    this.udp.close();
    this.tcp.close();
  }
}

const txt = (name: string, value: string) => ({
  name, type: RRType.TXT, class: RRClass.IN, ttl: 60, data: { kind: 'TXT' as const, strings: [value] },
});
const reply = (request: DnsMessage, extra: Partial<DnsMessage> = {}) =>
  encodeMessage({ id: request.id, qr: true, aa: true, questions: request.questions, ...extra });

describe('client against a scripted server', () => {
  const server = new FakeServer();
  const at = () => ({ host: '127.0.0.1', port: server.port });
  before(() => server.start());
  after(() => server.stop());

  it('ignores answers with a wrong ID or question and takes the matching one', async () => {
    server.received = [];
    server.handler = (req) => [
      reply({ ...req, id: (req.id + 1) & 0xffff }, { answers: [txt('x.example', 'spoofed id')] }),
      reply({ ...req, questions: [{ name: 'y.example', type: RRType.TXT, class: RRClass.IN }] }, { answers: [txt('y.example', 'wrong question')] }),
      Buffer.from('garbage'),
      reply(req, { answers: [txt('x.example', 'real')] }),
    ];
    const answer = await query(at(), 'X.example', RRType.TXT, { timeoutMs: 1000 });
    assert.deepEqual(answer.answers.map((r) => r.data), [{ kind: 'TXT', strings: ['real'] }]);
    assert.equal(answer.questions[0].name, 'X.example');
    assert.equal(server.received.length, 1);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    server.received = [];
    server.handler = (req, _wire, transport) =>
      transport === 'udp' ? [reply(req, { tc: true })] : [reply(req, { answers: [txt('big.example', 'whole')] })];
    const answer = await query(at(), 'big.example', RRType.TXT, { timeoutMs: 1000 });
    assert.equal(answer.tc, false);
    assert.equal(answer.answers.length, 1);
    assert.deepEqual(server.received.map((r) => r.transport), ['udp', 'tcp']);
    assert.equal(server.received[0].id, server.received[1].id);
  });

  it('gives up after the configured attempts with TIMEOUT naming question and server', async () => {
    server.received = [];
    server.handler = () => [];
    const started = Date.now();
    await assert.rejects(query(at(), 'silent.example', RRType.SOA, { timeoutMs: 100, attempts: 2 }), (e: unknown) => {
      assert.ok(e instanceof DnsError);
      assert.equal(e.code, 'TIMEOUT');
      assert.equal(e.message, `dns query silent.example SOA at 127.0.0.1:${server.port}: TIMEOUT: no answer over UDP after 2 attempts of 100 ms`);
      return true;
    });
    assert.equal(server.received.length, 2);
    assert.ok(Date.now() - started < 1000);
  });

  it('uses random query IDs', async () => {
    server.received = [];
    server.handler = (req) => [reply(req)];
    for (let i = 0; i < 8; i++) await query(at(), 'id.example', RRType.A, { timeoutMs: 500 });
    assert.ok(new Set(server.received.map((r) => r.id)).size >= 7);
  });

  describe('with TSIG', () => {
    const key: TsigKey = { name: 'unit-key', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 1).toString('base64') };

    it('accepts an answer signed with the request MAC', async () => {
      server.handler = (req) => [
        signMessage(reply(req, { answers: [txt('s.example', 'ok')] }), key, { requestMac: req.tsig?.rdata.mac }).wire,
      ];
      const answer = await query(at(), 's.example', RRType.TXT, { timeoutMs: 500, tsig: key });
      assert.equal(answer.answers.length, 1);
    });

    it('rejects an unsigned NOERROR answer to a signed query', async () => {
      server.handler = (req) => [reply(req, { answers: [txt('s.example', 'forged')] })];
      await assert.rejects(query(at(), 's.example', RRType.TXT, { timeoutMs: 500, tsig: key }), {
        name: 'DnsError',
        code: 'TSIG',
        tsigError: 'UNSIGNED',
      });
    });

    it('reports an unusable key as TSIG/BADSECRET without sending anything or showing the secret', async () => {
      server.received = [];
      const secret = 'not*base64';
      await assert.rejects(sendUpdate(at(), 'int.example.com', [], { ...key, secret }), (e: unknown) => {
        assert.ok(e instanceof DnsError);
        assert.deepEqual([e.code, e.tsigError], ['TSIG', 'BADSECRET']);
        assert.match(e.message, /^dns update zone int\.example\.com at 127\.0\.0\.1:\d+: TSIG: tsig key unit-key: secret is not valid base64$/);
        assert.ok(!e.message.includes(secret));
        return true;
      });
      assert.equal(server.received.length, 0);
    });

    it('rejects an answer signed without the request MAC', async () => {
      server.handler = (req) => [signMessage(reply(req), key).wire];
      await assert.rejects(query(at(), 's.example', RRType.TXT, { timeoutMs: 500, tsig: key }), { code: 'TSIG', tsigError: 'BADSIG' });
    });
  });

  it('sendUpdate goes over TCP and reports the rcode with zone and server', async () => {
    server.received = [];
    server.handler = (req) => [reply(req, { opcode: 5, rcode: 5 })];
    await assert.rejects(sendUpdate(at(), 'int.example.com', [], undefined), (e: unknown) => {
      assert.ok(e instanceof DnsError);
      assert.equal(e.message, `dns update zone int.example.com at 127.0.0.1:${server.port}: REFUSED`);
      assert.deepEqual([e.code, e.rcode, e.zone, e.server], ['REFUSED', 5, 'int.example.com', `127.0.0.1:${server.port}`]);
      return true;
    });
    assert.deepEqual(server.received.map((r) => r.transport), ['tcp']);
  });

  it('sendUpdate reports a connection refused as NETWORK', async () => {
    const closed = { host: '127.0.0.1', port: 1 };
    await assert.rejects(sendUpdate(closed, 'int.example.com', [], undefined, { timeoutMs: 500 }), {
      code: 'NETWORK',
      message: /^dns update zone int\.example\.com at 127\.0\.0\.1:1: NETWORK: TCP: connect ECONNREFUSED/,
    });
  });
});
