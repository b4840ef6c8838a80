/**
 * `certfleet address --broker URL --eab-kid KID --eab-hmac-key-file FILE ADDRESS...`, run on a
 * device: its enrolled names get these A/AAAA records, through the broker.
 */
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { AddressError, directoryUrlOf, sendAddresses } from '../../broker/address-client.ts';
import { EXIT, UsageError, type Io } from '../errors.ts';

export interface AddressFlags {
  broker: string;
  eabKid: string;
  eabHmacKeyFile: string;
  json?: boolean;
}

export async function addressCommand(flags: AddressFlags, addresses: string[], io: Io): Promise<number> {
  try {
    directoryUrlOf(flags.broker);
  } catch {
    throw new UsageError(`--broker ${flags.broker}: not a URL`);
  }
  const bad = addresses.filter((a) => isIP(a) === 0);
  if (bad.length) throw new UsageError(`not an IP address: ${bad.join(', ')}`);
  if (addresses.length === 0) throw new UsageError('give at least one address');
  const text = await fs.readFile(flags.eabHmacKeyFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--eab-hmac-key-file ${flags.eabHmacKeyFile}: cannot read: ${err.code ?? err.message}`);
  });
  const hmacKey = text.trim().replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(hmacKey)) throw new UsageError(`--eab-hmac-key-file ${flags.eabHmacKeyFile}: not a base64url key`);
  try {
    const result = await sendAddresses({ broker: flags.broker, kid: flags.eabKid, hmacKey, addresses });
    io.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${result.names.join(' ')}: ${result.addresses.join(' ')}\n`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    if (flags.json) io.stdout.write(`${JSON.stringify({ error: err.message, status: err.status })}\n`);
    io.stderr.write(`certfleet: address: ${err.message}\n`);
    return EXIT.failed;
  }
}
