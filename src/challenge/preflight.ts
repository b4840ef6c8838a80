/**
 * HTTP-01 pre-flight: before asking the CA to validate, fetch the challenge the way the CA will,
 * from every address each name resolves to, so a cluster node or forwarder that answers wrong is
 * found (and named) without spending a failed authorization.
 */
import { Resolver } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { challengePath } from '../server/challenge-path.ts';

/** Redirects followed per address, as Let's Encrypt does. */
export const MAX_REDIRECTS = 10;
/** Bytes of a response body read; a key authorization is under 300. */
export const MAX_BODY_BYTES = 1024;
/** Characters of a wrong body quoted in a failure. */
const EXCERPT_CHARS = 100;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** DNS answers that mean "no such record" rather than "could not ask". */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND']);

/** Options for {@link preflight}. */
export interface PreflightOptions {
  names: string[];
  token: string;
  keyAuthorization: string;
  /** Port of the first request to every address (80 unless a NAT maps it elsewhere). */
  port: number;
  /** `ADDR`, `ADDR:PORT` or `[IPV6]:PORT` of the DNS server to ask; the system's otherwise. */
  resolver?: string;
  /** Bound on one address's whole check, redirects and their DNS included; also bounds each DNS query. */
  timeoutMs: number;
}

/** What a failing address answered. */
export type PreflightAnswer =
  | { kind: 'dns'; error: string }
  | { kind: 'network'; url: string; error: string }
  | { kind: 'status'; url: string; status: number }
  | { kind: 'body'; url: string; excerpt: string }
  | { kind: 'redirect'; url: string; error: string };

/** One address (or, for `dns`, one name) that would fail validation. */
export interface PreflightFailure {
  name: string;
  /** The address fetched; null when the name did not resolve. */
  address: string | null;
  answer: PreflightAnswer;
}

/** Outcome of a pre-flight: `ok` only if every address of every name answered right. */
export interface PreflightResult {
  ok: boolean;
  /** Every name/address pair fetched, failing or not. */
  checked: { name: string; address: string }[];
  failures: PreflightFailure[];
}

/** Formats a failure as one line: `<name> <address>: <what it answered>`. */
export function describePreflightFailure(failure: PreflightFailure): string {
  const where = `${failure.name}${failure.address ? ` ${failure.address}` : ''}`;
  const a = failure.answer;
  switch (a.kind) {
    case 'dns':
      return `${where}: DNS: ${a.error}`;
    case 'network':
    case 'redirect':
      return `${where}: ${a.url}: ${a.error}`;
    case 'status':
      return `${where}: ${a.url}: HTTP ${a.status}`;
    case 'body':
      return `${where}: ${a.url}: answered ${JSON.stringify(a.excerpt)}, not the key authorization`;
  }
}

function errorText(err: unknown, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ''}` : e.message;
}

/** Resolves A and AAAA; a missing family is empty, as for the CA. Throws if neither answered. */
async function resolveAll(resolver: Resolver, name: string): Promise<string[]> {
  const [v6, v4] = await Promise.allSettled([resolver.resolve6(name), resolver.resolve4(name)]);
  const addresses: string[] = [];
  const codes: string[] = [];
  for (const r of [v6, v4]) {
    if (r.status === 'fulfilled') addresses.push(...r.value);
    else codes.push((r.reason as NodeJS.ErrnoException).code ?? (r.reason as Error).message);
  }
  if (addresses.length > 0) return addresses;
  const errors = codes.filter((code) => !NO_RECORD.has(code));
  if (errors.length > 0) throw new Error(errors.join(', '));
  throw new Error(codes.includes('ENOTFOUND') ? 'no such name (NXDOMAIN)' : 'no A or AAAA record');
}

/** Settles like `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The URL's host without IPv6 brackets, as DNS and SNI want it. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

interface Response {
  status: number;
  location?: string;
  body: string;
}

/** One GET to `address` for `url`, with `hostHeader` (and SNI for https). Reads at most MAX_BODY_BYTES. */
function get(url: URL, address: string, hostHeader: string, signal: AbortSignal): Promise<Response> {
  const https = url.protocol === 'https:';
  const hostname = bareHost(url);
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: address,
        port: url.port || (https ? 443 : 80),
        path: url.pathname + url.search,
        headers: { Host: hostHeader, 'User-Agent': 'certfleet-preflight', Accept: '*/*', Connection: 'close' },
        agent: false,
        signal,
        // Let's Encrypt documents that it does not check certificates after an https redirect
        // (HTTP-01 bootstraps them); checking here would only fail names the CA accepts.
        ...(https ? { rejectUnauthorized: false, servername: isIP(hostname) ? undefined : hostname } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => {
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('latin1');
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body });
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= MAX_BODY_BYTES) done();
        });
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Fetches the challenge from one address and follows redirects; returns null when it is right. */
async function checkAddress(
  resolver: Resolver,
  name: string,
  address: string,
  opts: PreflightOptions,
): Promise<PreflightAnswer | null> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url = new URL(`http://${name}${challengePath(opts.token)}`);
  url.port = String(opts.port);
  // The CA's first request names just the name, whatever port the pre-flight uses.
  let hostHeader = name;
  let target = address;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await get(url, target, hostHeader, signal);
    } catch (err) {
      return { kind: 'network', url: url.href, error: errorText(err, opts.timeoutMs) };
    }
    if (!REDIRECT_STATUSES.has(res.status) || !res.location) {
      if (res.status !== 200) return { kind: 'status', url: url.href, status: res.status };
      // RFC 8555 §8.3: trailing whitespace is ignored.
      if (res.body.trimEnd() === opts.keyAuthorization) return null;
      const excerpt = res.body.slice(0, EXCERPT_CHARS) + (res.body.length > EXCERPT_CHARS ? '…' : '');
      return { kind: 'body', url: url.href, excerpt };
    }
    if (hop === MAX_REDIRECTS) {
      return { kind: 'redirect', url: url.href, error: `more than ${MAX_REDIRECTS} redirects` };
    }
    const from = url.href;
    try {
      url = new URL(res.location, url);
    } catch {
      return { kind: 'redirect', url: from, error: `bad Location ${JSON.stringify(res.location.slice(0, EXCERPT_CHARS))}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { kind: 'redirect', url: from, error: `redirect to unsupported scheme ${url.protocol}` };
    }
    hostHeader = url.host;
    const host = bareHost(url);
    try {
      // Like the CA, a redirect target with both families is tried over IPv6.
      target = isIP(host) ? host : (await untilAborted(resolveAll(resolver, host), signal))[0];
    } catch (err) {
      return { kind: 'redirect', url: url.href, error: `cannot resolve ${host}: ${errorText(err, opts.timeoutMs)}` };
    }
  }
}

/**
 * Resolves every A and AAAA record of each name and fetches
 * `http://<address>:<port>/.well-known/acme-challenge/<token>` with `Host: <name>`, following up
 * to MAX_REDIRECTS redirects (other hosts, ports, http or https) the way the CA does. An address
 * passes when the final answer is 200 with the key authorization as its body (trailing
 * whitespace ignored). All names and addresses are checked concurrently; never throws for
 * what a server or DNS answered.
 * @throws Error `preflight: …` for an invalid token, name or resolver address (caller mistakes).
 */
export async function preflight(opts: PreflightOptions): Promise<PreflightResult> {
  challengePath(opts.token);
  for (const name of opts.names) {
    if (!URL.canParse(`http://${name}/`) || name.includes('*')) throw new Error(`preflight: ${JSON.stringify(name)}: not a host name`);
  }
  const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 2 });
  if (opts.resolver) {
    try {
      resolver.setServers([opts.resolver]);
    } catch (err) {
      throw new Error(`preflight: resolver ${JSON.stringify(opts.resolver)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const checked: PreflightResult['checked'] = [];
  const failures: PreflightFailure[] = [];
  // Queries outlived by a timed-out check are cancelled so nothing lingers after the result.
  await Promise.all(
    opts.names.map(async (name) => {
      let addresses: string[];
      try {
        addresses = await resolveAll(resolver, name);
      } catch (err) {
        failures.push({ name, address: null, answer: { kind: 'dns', error: (err as Error).message } });
        return;
      }
      await Promise.all(
        addresses.map(async (address) => {
          checked.push({ name, address });
          const answer = await checkAddress(resolver, name, address, opts);
          if (answer) failures.push({ name, address, answer });
        }),
      );
    }),
  ).finally(() => resolver.cancel());
  const order = (a: { name: string; address: string | null }, b: { name: string; address: string | null }): number =>
    a.name.localeCompare(b.name) || (a.address ?? '').localeCompare(b.address ?? '');
  checked.sort(order);
  failures.sort(order);
  return { ok: failures.length === 0, checked, failures };
}
