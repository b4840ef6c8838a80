/**
 * DNS server addresses as lematt.conf writes them (`nameservers`, rfc2136's `server`, the
 * pre-flight resolver) and as /etc/resolv.conf lists them.
 */
import { isIP } from 'node:net';
import type { DnsServer } from './transport.ts';

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A DNS server from `ADDRESS`, `ADDRESS:PORT`, `[IPV6]:PORT`, a bare IPv6 address, `HOST` or
 * `HOST:PORT` (port 53 when left out), or null when it is none of these or the port is not
 * 1-65535.
 */
export function parseServerAddress(text: string): DnsServer | null {
  if (isIP(text) === 6) return { host: text, port: 53 };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const [, bracketed, plain, portText] = m;
  const port = portText ? Number(portText) : 53;
  if (port < 1 || port > 65535) return null;
  if (bracketed !== undefined) return isIP(bracketed) === 6 ? { host: bracketed, port } : null;
  const host = plain!;
  if (isIP(host) === 4) return { host, port };
  const labels = host.replace(/\.$/, '').split('.');
  return host.length <= 253 && labels.every((l) => HOST_LABEL.test(l)) ? { host: host.replace(/\.$/, ''), port } : null;
}
