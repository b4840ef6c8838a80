/** Opens the store broker.conf names: a directory, or PostgreSQL (its client loaded only then). */
import type { StoreLocation } from '../settings.ts';
import { openDirStore } from './dir-store.ts';
import type { BrokerStore } from './store.ts';

/**
 * `admin`: for enroll, remove and status beside a serving broker (a directory is then not locked;
 * PostgreSQL takes no lock either way). Throws the store's own error when it cannot be opened.
 */
export async function openStore(location: StoreLocation, opts: { admin?: boolean } = {}): Promise<BrokerStore> {
  if (location.kind === 'dir') return openDirStore(location.dir, opts);
  // Loaded only here, so runs that use no PostgreSQL store never load `pg`.
  const { openPgStore } = await import('./pg-store.ts');
  return openPgStore(location.url);
}
