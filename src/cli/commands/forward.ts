/**
 * `certfleet forward --to URL [--listen ADDR:PORT]...`: redirect the CA's HTTP-01 requests on
 * this host to the machine that answers them (what lematt's leforward.py did, plus IPv6).
 */
import { createForwardHandler, parseForwardTarget } from '../../server/forward.ts';
import { parseListenList } from '../../server/listen.ts';
import { serveUntilStopped } from '../../server/serve.ts';

/** Flags of `certfleet forward`. */
export interface ForwardCommandOptions {
  /** `--to`: base URL the challenge path is appended to. */
  to: string;
  /** `--listen`, repeatable; default `:80` (IPv4 and IPv6). */
  listen?: string[];
}

/**
 * Serves redirects until SIGTERM, SIGHUP, SIGINT or `io.signal`. Returns 0 after a clean stop,
 * 2 for a bad `--to` or `--listen` (one line on stderr), 1 when an address cannot be bound.
 */
export async function runForwardCommand(
  opts: ForwardCommandOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<number> {
  const name = 'certfleet forward';
  let base: string;
  let addresses;
  try {
    base = parseForwardTarget(opts.to);
    addresses = parseListenList(opts.listen);
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n`);
    return 2;
  }
  io.stderr.write(`${name}: redirecting challenges to ${base}/.well-known/acme-challenge/\n`);
  return serveUntilStopped({ name, addresses, handler: createForwardHandler(base), stderr: io.stderr, signal: io.signal });
}
