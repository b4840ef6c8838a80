/**
 * The contract every DNS-01 provider must pass against a real server (certbot's
 * `dns_test_common`): two values at one owner at once, each removed on its own, other TXT
 * records at that owner untouched, removing an absent value fine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { query, type DnsServer } from '../../../../src/dns/client.ts';
import type { DnsRecordProvider } from '../../../../src/dns/providers/provider.ts';
import { RRType, txtValue } from '../../../../src/dns/types.ts';

/** TXT values `server` itself serves at `name`, sorted. */
export async function served(server: DnsServer, name: string): Promise<string[]> {
  const answer = await query(server, name, RRType.TXT, { timeoutMs: 1000, recursionDesired: false });
  return answer.answers.flatMap((rr) => txtValue(rr.data) ?? []).sort();
}

/** A fresh DNS-01 value (43 characters, as SHA-256 in base64url). */
export const newValue = (): string => randomBytes(32).toString('base64url');

/**
 * Registers the contract's tests. `owner` must already hold exactly the TXT values `unrelated`;
 * `server()` is where they are served (called at test time, after `before` hooks ran).
 */
export function providerContract(opts: {
  provider: () => DnsRecordProvider;
  server: () => DnsServer;
  owner: string;
  unrelated: string[];
}): void {
  const { owner, unrelated } = opts;
  it('contract: apex and wildcard values are served together, each removed on its own, unrelated TXT untouched', async () => {
    const provider = opts.provider();
    const [apex, wildcard] = [newValue(), newValue()];
    await provider.present(owner, apex);
    await provider.present(owner, wildcard);
    assert.deepEqual(await served(opts.server(), owner), [apex, wildcard, ...unrelated].sort());
    await provider.cleanup(owner, apex);
    assert.deepEqual(await served(opts.server(), owner), [wildcard, ...unrelated].sort());
    await provider.cleanup(owner, wildcard);
    assert.deepEqual(await served(opts.server(), owner), [...unrelated].sort());
  });

  it('contract: removing a value that is not there succeeds and changes nothing', async () => {
    await opts.provider().cleanup(owner, newValue());
    assert.deepEqual(await served(opts.server(), owner), [...unrelated].sort());
  });
}
