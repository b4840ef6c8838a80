/**
 * `certfleet thumbprint [--config PATH] [--nginx]`: print the account key's JWK thumbprint, or an
 * nginx block that answers challenges with it.
 */
import { readAccountThumbprint } from '../../crypto/thumbprint.ts';
import { nginxSnippet } from '../../server/nginx-snippet.ts';

/** Flags of `certfleet thumbprint`, with the account key resolved from the config by the CLI. */
export interface ThumbprintCommandOptions {
  accountKeyPath: string;
  /** `--nginx`: print a `location` block instead of the bare thumbprint. */
  nginx?: boolean;
}

/**
 * Writes the thumbprint (or the nginx block) to stdout. Returns 0, or 1 with one line on stderr
 * when the account key cannot be read or used.
 */
export async function runThumbprintCommand(
  opts: ThumbprintCommandOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<number> {
  let thumbprint: string;
  try {
    thumbprint = await readAccountThumbprint(opts.accountKeyPath);
  } catch (err) {
    io.stderr.write(`certfleet thumbprint: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(opts.nginx ? nginxSnippet(thumbprint) : `${thumbprint}\n`);
  return 0;
}
