/** Opens the store broker.conf names: a directory, or PostgreSQL (its client loaded only then). */
import type { StoreLocation } from '../settings.ts';
import { openDirStore } from './dir-store.ts';
import type { BrokerStore } from './store.ts';

export async function openStore(location: StoreLocation): Promise<BrokerStore> {
  if (location.kind === 'dir') return openDirStore(location.dir);
  throw new Error('store: postgres:// is not available in this build yet');
}
