// The registry is the only list of DNS providers; these are the rules every descriptor in it
// must keep for config parsing and the solver to treat providers alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DNS_COMMON_KEYS } from '../../../../src/config/dns.ts';
import {
  createProvider, DESCRIPTORS, descriptorOf, PROVIDER_NAMES, serversToCheck, unknownProviderMessage, type DnsProviderSettings,
} from '../../../../src/dns/providers/registry.ts';

const TSIG = { name: 'k.', algorithm: 'hmac-sha256' as const, secret: 'c2VjcmV0' };
const SETTINGS: DnsProviderSettings[] = [
  { kind: 'rfc2136', server: { host: '127.0.0.1', port: 5353 }, tsig: TSIG },
  { kind: 'exec', command: '/bin/true', timeoutSeconds: 5 },
  { kind: 'acme-dns', apiUrl: 'https://auth.example.org', credentialsFile: '/x.json', accounts: {} },
];

describe('dns provider registry', () => {
  it('lists each provider once, in the documented order', () => {
    assert.deepEqual(PROVIDER_NAMES, ['rfc2136', 'exec', 'acme-dns']);
    assert.equal(unknownProviderMessage('route53'), 'unknown DNS provider "route53"; known providers: rfc2136, exec, acme-dns');
    for (const name of PROVIDER_NAMES) assert.equal(descriptorOf(name).name, name);
  });

  it('no key belongs to two providers or shadows a key every section takes (config parsing names one owner)', () => {
    const seen = new Map<string, string>(DNS_COMMON_KEYS.map((k) => [k.toLowerCase(), '[dns:*]']));
    for (const d of DESCRIPTORS) {
      for (const key of d.keys) {
        assert.equal(seen.get(key.toLowerCase()), undefined, `${d.name}: key ${key} is already ${seen.get(key.toLowerCase())}'s`);
        seen.set(key.toLowerCase(), d.name);
      }
    }
  });

  it('every secret file is named by one of the provider\'s own keys', () => {
    for (const d of DESCRIPTORS) {
      for (const key of Object.keys(d.secretFiles ?? {})) assert.ok(d.keys.includes(key), `${d.name}: secret file key ${key} is not one of its keys`);
    }
  });

  it('loads each implementation on demand and creates a provider', async () => {
    assert.deepEqual(SETTINGS.map((s) => s.kind), PROVIDER_NAMES, 'one example per provider');
    for (const settings of SETTINGS) {
      const provider = await createProvider(settings);
      assert.equal(typeof provider.present, 'function', settings.kind);
      assert.equal(typeof provider.cleanup, 'function', settings.kind);
    }
  });

  it('names the servers a provider writes to: rfc2136 its primary, the others none', () => {
    assert.deepEqual(SETTINGS.map(serversToCheck), [[{ host: '127.0.0.1', port: 5353 }], [], []]);
  });
});
