/**
 * `--listen ADDR:PORT` values: parsing, the dual-stack default, and display.
 */
import { isIP } from 'node:net';

/** One socket address a server binds. */
export interface ListenAddress {
  /**
   * An IP literal; `0.0.0.0` or `::` for all interfaces. IPv6 addresses are bound IPv6-only, so
   * `[::]:80` means what it says and an IPv4 listener can share the port.
   */
  host: string;
  port: number;
  /**
   * Part of an implicit dual-stack pair: if this address cannot be bound because the host has no
   * IPv6 (EAFNOSUPPORT, EADDRNOTAVAIL), the server warns and runs on the rest.
   */
  optional?: boolean;
}

/** The port HTTP-01 validation always uses (RFC 8555 §8.3). */
export const HTTP_PORT = 80;

const USAGE = 'expected ADDR:PORT, [IPV6]:PORT, :PORT or PORT with ADDR an IP address';

/**
 * All interfaces on `port`, IPv4 and IPv6 as two listeners. leforward listened on IPv4 only,
 * which fails validation for names with AAAA records; the IPv6 half is optional for hosts
 * without IPv6.
 */
export function dualStack(port: number = HTTP_PORT): ListenAddress[] {
  return [
    { host: '0.0.0.0', port },
    { host: '::', port, optional: true },
  ];
}

/**
 * Parses one `--listen` value. `127.0.0.1:80` and `[::1]:8080` name one address; `:80`, `*:80`
 * and `80` mean all interfaces on both IP versions (see {@link dualStack}). Port 0 asks the
 * system for a free port.
 * @throws Error `--listen "<spec>": …` when the value is not one of these forms.
 */
export function parseListen(spec: string): ListenAddress[] {
  const fail = (why: string): never => {
    throw new Error(`--listen ${JSON.stringify(spec)}: ${why}`);
  };
  const portOnly = /^\d+$/.test(spec);
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(spec);
  if (!portOnly && !m) {
    const unbracketed = isIP(spec.slice(0, spec.lastIndexOf(':'))) === 6;
    return fail(unbracketed ? 'IPv6 addresses need brackets: [ADDR]:PORT' : USAGE);
  }
  const portText = m ? m[3] : spec;
  const port = Number(portText);
  if (portText.length > 5 || port > 65535) fail(`port ${portText} is out of range 0-65535`);
  if (!m) return dualStack(port);
  const [, bracketed, plain] = m;
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6) fail(bracketed ? `${bracketed} is not an IPv6 address` : USAGE);
    return [{ host: bracketed, port }];
  }
  if (plain === '' || plain === '*') return dualStack(port);
  if (isIP(plain) !== 4) fail(USAGE);
  return [{ host: plain, port }];
}

/**
 * Parses every `--listen` value, or returns the dual-stack default on port 80 when there is none.
 * Duplicates are dropped so one address is never bound twice.
 * @throws Error from {@link parseListen} for the first invalid value.
 */
export function parseListenList(specs: readonly string[] | undefined): ListenAddress[] {
  if (!specs || specs.length === 0) return dualStack();
  const seen = new Map<string, ListenAddress>();
  for (const address of specs.flatMap(parseListen)) {
    const key = formatListen(address);
    // An explicit `[::]:80` stays required even if `:80` also asks for it.
    const prior = seen.get(key);
    seen.set(key, prior && !prior.optional ? prior : address);
  }
  return [...seen.values()];
}

/** Formats an address as `127.0.0.1:80` or `[::]:80`, the form logs and messages use. */
export function formatListen(address: { host: string; port: number }): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
