/** CERTFLEET_BROKER_LEASE_SECONDS (undocumented, for tests): whole seconds 2–3600, else the default lease. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseMsFromEnv } from '../../../src/broker/serve.ts';

test('a lease in whole seconds from 2 to 3600 is taken; anything else leaves the default', () => {
  assert.equal(leaseMsFromEnv('4'), 4000);
  assert.equal(leaseMsFromEnv('3600'), 3_600_000);
  for (const bad of [undefined, '', '1', '0', '3601', '2.5', '-3', '4s', ' 4']) assert.equal(leaseMsFromEnv(bad), null, String(bad));
});
