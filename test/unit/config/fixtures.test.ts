import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, hasErrors } from '../../../src/config/diagnostics.ts';
import { loadConfig } from '../../../src/config/load.ts';

const ROOT = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const CASES = readdirSync(ROOT, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** Loads a fixture as `certfleet --config lematt.conf` run inside its directory would. */
async function load(name: string) {
  return loadConfig({ configPath: 'lematt.conf', cwd: join(ROOT, name) });
}

describe('golden config fixtures: test/fixtures/config/<case>/expected.txt', () => {
  it('has the broken cases and the valid one', () => {
    assert.ok(CASES.includes('valid'));
    assert.ok(CASES.filter((c) => c !== 'valid').length >= 8);
  });

  for (const name of CASES) {
    it(name, async () => {
      const expected = readFileSync(join(ROOT, name, 'expected.txt'), 'utf8').trimEnd();
      const { config, diagnostics } = await load(name);
      const actual = diagnostics.map(formatDiagnostic).join('\n');
      assert.equal(actual, expected);
      assert.equal(config === null, hasErrors(diagnostics), 'config is null exactly when there are errors');
      if (name !== 'valid') assert.ok(hasErrors(diagnostics), 'a broken fixture must hold an error');
    });
  }

  it('valid: every feature reaches the typed config', async () => {
    const { config } = await load('valid');
    const dir = join(ROOT, 'valid');
    const { settings, domains, actions } = config!;
    assert.deepEqual(
      [settings.reauthorizeDays, settings.alwaysGenerateNewKeys, settings.keyBitsRSA, settings.curve, settings.rsaTag, settings.curveTag, settings.actionTimeoutSeconds],
      [30.5, true, 3072, 'prime256v1', 'rsa3072', 'P-256', 120],
    );
    assert.equal(settings.accountKey, join(dir, 'keys/account.key'));
    assert.equal(settings.challengeDropDir, join(dir, 'challenges'));
    assert.deepEqual(settings.acme.prod, {
      directory: 'https://acme-v02.api.letsencrypt.org/directory',
      contact: ['mailto:ops@example.com', 'mailto:certs@example.com'],
      eab: { kid: 'kid-123', hmacKey: 'c2VjcmV0LWtleS1maWxl' },
      ari: true,
      profile: null,
      budget: { enabled: 'auto', ordersPer3Hours: 300, certsPerDomainPerWeek: 50 },
    });
    assert.deepEqual(settings.acme.test, {
      directory: 'http://localhost:14000/dir',
      contact: [],
      eab: { kid: 'test-kid', hmacKey: 'c2VjcmV0LWtleQ' },
      ari: false,
      profile: { name: 'shortlived', line: 27 },
      budget: { enabled: true, ordersPer3Hours: 100, certsPerDomainPerWeek: 50 },
    });
    assert.deepEqual(domains.map((d) => [d.line, d.names]), [
      [2, ['example.com', 'www.example.com', 'mail.example.com']],
      [3, ['other.net', 'www.other.org', 'api.other.net']],
      [5, ['localhost.localhost', 'www.localhost']],
      [6, ['mail.example.net']],
      [7, ['example.net', '*.example.net']],
      [8, ['*.int.example.com']],
    ]);
    assert.deepEqual(settings.dns, [
      {
        name: 'internal', line: 33, zones: ['int.example.com', 'example.net'],
        provider: { kind: 'rfc2136', server: { host: '10.0.0.53', port: 53 }, tsig: { name: 'acme-key.', algorithm: 'hmac-sha512', secret: 'c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw==' } },
        nameservers: [{ host: '10.0.0.53', port: 53 }, { host: '2001:db8::53', port: 5353 }, { host: 'ns1.example.net', port: 5353 }],
        propagationTimeoutSeconds: 30,
      },
      {
        name: 'hooks', line: 43, zones: ['example.org'],
        provider: { kind: 'exec', command: '/usr/local/bin/dns-hook --quiet', timeoutSeconds: 20 },
        nameservers: null, propagationTimeoutSeconds: 120,
      },
    ]);
    assert.deepEqual(actions.default.update, [
      { command: 'sudo service nginx reload', line: 9 },
      { command: 'echo renewed DOMAINS_ALL | mail -s 100% ops@example.com', line: 11 },
    ]);
    assert.deepEqual(actions.every?.update.map((c) => c.command), ['logger certfleet: DOMAINS_CN']);
    assert.deepEqual(actions.overrides.map((o) => [o.name, o.domains]), [['mail', ['mail.example.com', 'mail.example.net']]]);
  });
});
