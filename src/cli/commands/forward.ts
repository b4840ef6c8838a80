/**
 * `certfleet forward --to URL [--listen ADDR:PORT]...`: redirect the CA's HTTP-01 requests on
 * this host to the machine that answers them (what lematt's leforward.py did, plus IPv6).
 */
import { createForwardHandler, parseForwardTarget } from '../../server/forward.ts';
import { serveUntilStopped } from '../../server/serve.ts';
import { EXIT, UsageError, type Io } from '../errors.ts';
import { listenAddresses } from '../load.ts';

/** Flags of `certfleet forward`. */
export interface ForwardCommandOptions {
  /** `--to`: base URL the challenge path is appended to. */
  to: string;
  /** `--listen`, repeatable; default `:80` (IPv4 and IPv6). */
  listen?: string[];
}

/**
 * Serves redirects until SIGTERM, SIGHUP, SIGINT or `io.signal`. Returns 0 after a clean stop,
 * 1 when an address cannot be bound (the server logs which and why).
 * @throws UsageError for a bad `--to` or `--listen` (the CLI's boundary prints it, exit 2).
 */
export async function runForwardCommand(
  opts: ForwardCommandOptions,
  io: Pick<Io, 'stdout' | 'stderr'> & { signal?: AbortSignal },
): Promise<number> {
  const name = 'certfleet forward';
  let base: string;
  try {
    base = parseForwardTarget(opts.to);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const addresses = listenAddresses(opts.listen);
  io.stderr.write(`${name}: redirecting challenges to ${base}/.well-known/acme-challenge/\n`);
  const code = await serveUntilStopped({ name, addresses, handler: createForwardHandler(base), stderr: io.stderr, signal: io.signal });
  return code === 0 ? EXIT.ok : EXIT.failed;
}
