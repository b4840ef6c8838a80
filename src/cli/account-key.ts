/**
 * The ACME account key named by lematt.conf's `accountKey`, as the commands read it: a problem
 * with it is a config problem (exit 2, naming lematt.conf), never a stack trace.
 */
import { promises as fs } from 'node:fs';
import type { Settings } from '../config/settings.ts';
import { parsePrivateKey } from '../crypto/keys.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { ConfigError } from './errors.ts';

function fail(settings: Settings, what: string): never {
  throw new ConfigError([{ file: settings.lemattConf, line: 0, severity: 'error', message: `accountKey ${settings.accountKey}: ${what}` }]);
}

/**
 * Reads the account key's PEM. `configFlag` is the `--config` value, quoted in the hint to
 * create a missing key.
 * @throws ConfigError when the file is missing, unreadable, or not an RSA/EC private key without a passphrase.
 */
export async function readAccountKeyPem(settings: Settings, configFlag: string): Promise<string> {
  const pem = await fs.readFile(settings.accountKey, 'utf8').catch((err: NodeJS.ErrnoException) =>
    fail(settings, err.code === 'ENOENT' ? `does not exist; create one with: certfleet init --config ${configFlag}` : `cannot read: ${err.code ?? err.message}`),
  );
  try {
    parsePrivateKey(pem);
  } catch {
    fail(settings, 'is not a readable RSA or EC private key (PEM, no passphrase)');
  }
  return pem;
}

/**
 * The account key's RFC 7638 thumbprint.
 * @throws ConfigError as {@link readAccountKeyPem}, or when the key type has no thumbprint.
 */
export async function readAccountThumbprint(settings: Settings, configFlag: string): Promise<string> {
  const pem = await readAccountKeyPem(settings, configFlag);
  try {
    return jwkThumbprint(pem);
  } catch (err) {
    return fail(settings, `cannot compute its thumbprint: ${(err as Error).message}`);
  }
}
