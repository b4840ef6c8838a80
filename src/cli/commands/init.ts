import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateKeyPem } from '../../crypto/keys.ts';
import { MODE_KEY, writeAtomic } from '../../store/atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE } from '../../store/dirs.ts';
import { EXIT, type Io } from '../errors.ts';
import { loadCheckedSettings } from '../load.ts';

/**
 * `certfleet init`: creates the account key named by `accountKey` (EC P-256, mode 0600) if it
 * does not exist, and any missing directory above it with mode 0700. Reads lematt.conf only.
 */
export async function initCommand(flags: { config: string }, io: Io): Promise<number> {
  const settings = await loadCheckedSettings(flags.config, io, false);
  const file = settings.accountKey;
  if (await fs.stat(file).catch(() => null)) {
    io.stdout.write(`account key ${file} exists; left unchanged\n`);
    return EXIT.ok;
  }
  await ensureDir(path.dirname(file), MODE_DIR_PRIVATE);
  await writeAtomic(file, await generateKeyPem({ kind: 'ec', curve: 'prime256v1' }), MODE_KEY);
  io.stdout.write(`created account key ${file} (EC P-256, mode 0600); keep it safe: it is your ACME account\n`);
  return EXIT.ok;
}
