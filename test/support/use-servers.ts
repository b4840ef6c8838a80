import { after, before } from 'node:test';
import { startTestServers, type TestServers, type TestServersOptions } from './servers.ts';

/** What a test file gets from {@link useTestServers}; filled in once `before` has run. */
export interface ServersFixture {
  servers: TestServers;
  /** Environment for the certfleet child: trusts Pebble's TLS certificate. */
  env: Record<string, string>;
}

/**
 * Starts Pebble, pebble-challtestsrv and nginx before the file's tests and stops them after.
 * Read the fields inside tests (they are set by the `before` hook).
 */
export function useTestServers(opts?: TestServersOptions): ServersFixture {
  const fixture = {} as ServersFixture;
  before(async () => {
    fixture.servers = await startTestServers(opts);
    fixture.env = { NODE_EXTRA_CA_CERTS: fixture.servers.caCertPath };
  });
  after(async () => fixture.servers?.stop());
  return fixture;
}
