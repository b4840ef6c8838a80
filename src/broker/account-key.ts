/**
 * The broker's upstream account key (`accountKey` in broker.conf): read, or created (EC P-256,
 * mode 0600, written atomically) the first time `broker serve` runs. A file that exists but is
 * not a usable key is a config error naming broker.conf, never replaced.
 */
import { promises as fs } from 'node:fs';
import { ConfigError } from '../config/diagnostics.ts';
import { generateKeyPem, parsePrivateKey } from '../crypto/keys.ts';
import { MODE_KEY, writeAtomic } from '../store/atomic.ts';
import type { BrokerSettings } from './settings.ts';

function fail(settings: BrokerSettings, what: string): never {
  throw new ConfigError([{ file: settings.file, line: 0, severity: 'error', message: `accountKey ${settings.accountKeyFile}: ${what}` }]);
}

/** The key's PEM, and whether it was created now. */
export async function readOrCreateAccountKey(settings: BrokerSettings): Promise<{ pem: string; created: boolean }> {
  const file = settings.accountKeyFile;
  let pem: string | null = null;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') fail(settings, `cannot read: ${code ?? (err as Error).message}`);
  }
  if (pem !== null) {
    try {
      parsePrivateKey(pem);
    } catch {
      fail(settings, 'is not a readable RSA or EC private key (PEM, no passphrase)');
    }
    return { pem, created: false };
  }
  const created = await generateKeyPem({ kind: 'ec', curve: 'prime256v1' });
  try {
    await writeAtomic(file, created, MODE_KEY);
  } catch (err) {
    fail(settings, `cannot create it: ${(err as Error).message}`);
  }
  return { pem: created, created: true };
}
