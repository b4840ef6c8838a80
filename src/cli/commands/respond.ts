/**
 * `certfleet respond [--config PATH] [--listen ADDR:PORT]...`: answer every HTTP-01 challenge
 * from the account key's thumbprint alone, so each node of a cluster can run it without files.
 */
import { readAccountThumbprint } from '../../crypto/thumbprint.ts';
import { parseListenList } from '../../server/listen.ts';
import { createRespondHandler } from '../../server/respond.ts';
import { serveUntilStopped } from '../../server/serve.ts';

/** Flags of `certfleet respond`, with the account key resolved from the config by the CLI. */
export interface RespondCommandOptions {
  accountKeyPath: string;
  /** `--listen`, repeatable; default `:80` (IPv4 and IPv6). */
  listen?: string[];
}

/**
 * Serves key authorizations until SIGTERM, SIGHUP, SIGINT or `io.signal`. Returns 0 after a
 * clean stop, 2 for a bad `--listen`, 1 when the account key is unusable or an address cannot
 * be bound (one line on stderr each).
 */
export async function runRespondCommand(
  opts: RespondCommandOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<number> {
  const name = 'certfleet respond';
  let addresses;
  try {
    addresses = parseListenList(opts.listen);
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n`);
    return 2;
  }
  let thumbprint: string;
  try {
    thumbprint = await readAccountThumbprint(opts.accountKeyPath);
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n`);
    return 1;
  }
  io.stderr.write(`${name}: answering challenges for account thumbprint ${thumbprint}\n`);
  return serveUntilStopped({ name, addresses, handler: createRespondHandler(thumbprint), stderr: io.stderr, signal: io.signal });
}
