/**
 * `certfleet respond [--config PATH | --thumbprint VALUE | --thumbprint-file FILE] [--listen ADDR:PORT]...`:
 * answer every HTTP-01 challenge from the account key's thumbprint alone, so each node of a
 * cluster can run it with no conf dir, no domains file and no private key.
 */
import { promises as fs } from 'node:fs';
import { createRespondHandler } from '../../server/respond.ts';
import { serveUntilStopped } from '../../server/serve.ts';
import { readAccountThumbprint } from '../account-key.ts';
import { EXIT, UsageError, type Io } from '../errors.ts';
import { listenAddresses, loadCheckedSettings } from '../load.ts';

/** Flags of `certfleet respond`. */
export interface RespondFlags {
  /** lematt.conf, read (with the account key) only when no thumbprint flag is given. */
  config: string;
  /** `--config` was given on the command line (not its default). */
  configGiven?: boolean;
  thumbprint?: string;
  thumbprintFile?: string;
  /** `--listen`, repeatable; default `:80` (IPv4 and IPv6). */
  listen?: string[];
}

/** An RFC 7638 SHA-256 thumbprint: 32 bytes in unpadded base64url. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

function checkThumbprint(value: string, where: string): string {
  if (!THUMBPRINT.test(value)) {
    throw new UsageError(`${where}: not an account thumbprint (43 base64url characters, as \`certfleet thumbprint\` prints it)`);
  }
  return value;
}

/**
 * The thumbprint to answer with: `--thumbprint`, else the first line of `--thumbprint-file`,
 * else computed from lematt.conf's account key.
 * @throws UsageError for conflicting flags, an unreadable file or a malformed thumbprint.
 * @throws ConfigError for a problem of lematt.conf or the account key.
 */
export async function respondThumbprint(flags: RespondFlags, io: Pick<Io, 'stderr' | 'cwd'>): Promise<string> {
  const given = [flags.thumbprint !== undefined && '--thumbprint', flags.thumbprintFile !== undefined && '--thumbprint-file', flags.configGiven && '--config'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be used together`);
  if (flags.thumbprint !== undefined) return checkThumbprint(flags.thumbprint.trim(), '--thumbprint');
  if (flags.thumbprintFile !== undefined) {
    const file = flags.thumbprintFile;
    const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--thumbprint-file ${file}: cannot read: ${err.code ?? err.message}`);
    });
    return checkThumbprint(text.trim(), `--thumbprint-file ${file}`);
  }
  const settings = await loadCheckedSettings(flags.config, io, false);
  return readAccountThumbprint(settings, flags.config);
}

/**
 * Serves key authorizations until SIGTERM, SIGHUP, SIGINT or `io.signal`. Returns 0 after a
 * clean stop, 1 when an address cannot be bound (the server logs which and why).
 * @throws UsageError for a bad flag; ConfigError for a problem of lematt.conf or the account key.
 */
export async function runRespondCommand(
  flags: RespondFlags,
  io: Pick<Io, 'stdout' | 'stderr' | 'cwd'> & { signal?: AbortSignal },
): Promise<number> {
  const addresses = listenAddresses(flags.listen);
  const thumbprint = await respondThumbprint(flags, io);
  const name = 'certfleet respond';
  io.stderr.write(`${name}: answering challenges for account thumbprint ${thumbprint}\n`);
  const code = await serveUntilStopped({ name, addresses, handler: createRespondHandler(thumbprint), stderr: io.stderr, signal: io.signal });
  return code === 0 ? EXIT.ok : EXIT.failed;
}
