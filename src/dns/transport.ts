/** UDP and TCP exchanges of one encoded message with one server (RFC 1035 §4.2). */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, isIP, isIPv6 } from 'node:net';

/** A DNS server to talk to directly. */
export interface DnsServer {
  host: string;
  port: number;
}

/** `host:port`, with IPv6 literals in brackets: `127.0.0.1:5353`, `[::1]:53`. */
export function formatServer(server: DnsServer): string {
  return isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Why an exchange produced no answer: `TIMEOUT` or `NETWORK`. The client turns it into DnsError. */
export class TransportFailure extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'NETWORK',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server with its host resolved to an address (names go through the system resolver). */
export async function resolveServer(server: DnsServer): Promise<DnsServer> {
  if (isIP(server.host)) return server;
  try {
    const { address } = await lookup(server.host);
    return { host: address, port: server.port };
  } catch (cause) {
    throw new TransportFailure('NETWORK', `cannot resolve ${server.host}`, { cause });
  }
}

/**
 * Sends `wire` over UDP up to `attempts` times, `timeoutMs` apart, from one connected socket
 * (so only the server's address and port can answer). Datagrams that `accept` rejects (wrong
 * ID or question, garbage) are ignored, not fatal. Resolves with the first accepted datagram;
 * rejects with TransportFailure.
 */
export function exchangeUdp(
  server: DnsServer,
  wire: Buffer,
  opts: { timeoutMs: number; attempts: number; accept: (answer: Buffer) => boolean },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    let sent = 0;
    let done = false;
    const finish = (error: Error | undefined, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer as Buffer);
    };
    const send = () => {
      if (sent >= opts.attempts) {
        finish(new TransportFailure('TIMEOUT', `no answer over UDP after ${sent} attempts of ${opts.timeoutMs} ms`));
        return;
      }
      sent++;
      socket.send(wire, (err) => {
        if (err) finish(new TransportFailure('NETWORK', `UDP send failed: ${err.message}`, { cause: err }));
      });
      timer = setTimeout(send, opts.timeoutMs);
    };
    socket.on('error', (err) => finish(new TransportFailure('NETWORK', `UDP: ${err.message}`, { cause: err })));
    socket.on('message', (answer) => {
      if (opts.accept(answer)) finish(undefined, answer);
    });
    socket.connect(server.port, server.host, send);
  });
}

/**
 * Sends `wire` over TCP with the two-octet length prefix and resolves with the first complete
 * answer. The whole exchange (connect, send, receive) must finish within `timeoutMs`; rejects
 * with TransportFailure otherwise or on a connection error or early close.
 */
export function exchangeTcp(server: DnsServer, wire: Buffer, opts: { timeoutMs: number }): Promise<Buffer> {
  if (wire.length > 0xffff) return Promise.reject(new RangeError(`DNS message of ${wire.length} octets is too long for TCP`));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (error: Error | undefined, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer as Buffer);
    };
    const timer = setTimeout(
      () => finish(new TransportFailure('TIMEOUT', `no answer over TCP within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(wire.length);
      socket.write(Buffer.concat([length, wire]));
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const all = Buffer.concat(chunks);
      const size = all.readUInt16BE(0);
      if (all.length >= 2 + size) finish(undefined, all.subarray(2, 2 + size));
    });
    socket.on('error', (err) => finish(new TransportFailure('NETWORK', `TCP: ${err.message}`, { cause: err })));
    socket.on('close', () => finish(new TransportFailure('NETWORK', 'TCP connection closed before a full answer')));
  });
}
