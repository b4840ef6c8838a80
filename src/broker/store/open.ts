/** Opens the store broker.conf names: a directory, or PostgreSQL (its client loaded only then). */
import type { StoreLocation } from '../settings.ts';
import { openDirStore } from './dir-store.ts';
import type { BrokerStore } from './store.ts';

/** `admin`: for enroll, remove and status beside a serving broker (a directory is then not locked). */
export async function openStore(location: StoreLocation, opts: { admin?: boolean } = {}): Promise<BrokerStore> {
  if (location.kind === 'dir') return openDirStore(location.dir, opts);
  throw new Error('store: postgres:// is not available in this build yet');
}
