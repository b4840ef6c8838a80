/**
 * `certfleet thumbprint [--config PATH] [--nginx]`: print the account key's JWK thumbprint, or an
 * nginx block that answers challenges with it. Reads lematt.conf and the account key only.
 */
import { nginxSnippet } from '../../server/nginx-snippet.ts';
import { readAccountThumbprint } from '../account-key.ts';
import { EXIT, type Io } from '../errors.ts';
import { loadCheckedSettings } from '../load.ts';

/** Flags of `certfleet thumbprint`. */
export interface ThumbprintFlags {
  config: string;
  /** `--nginx`: print a `location` block instead of the bare thumbprint. */
  nginx?: boolean;
}

/**
 * Writes the thumbprint (or the nginx block) to stdout and returns 0.
 * @throws ConfigError for a problem of lematt.conf or the account key (the CLI's boundary prints it, exit 2).
 */
export async function runThumbprintCommand(flags: ThumbprintFlags, io: Pick<Io, 'stdout' | 'stderr' | 'cwd'>): Promise<number> {
  const settings = await loadCheckedSettings(flags.config, io, false);
  const thumbprint = await readAccountThumbprint(settings, flags.config);
  io.stdout.write(flags.nginx ? nginxSnippet(thumbprint) : `${thumbprint}\n`);
  return EXIT.ok;
}
