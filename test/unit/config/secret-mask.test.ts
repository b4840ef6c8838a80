import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { maskText } from '../../../src/config/secret-mask.ts';
import { parseSettings } from '../../../src/config/settings.ts';
import { collect, text } from './support.ts';

const PATHS = { configDir: '/c', lemattConf: '/c/lematt.conf', domainsFile: '/c/domains', actionsFile: '/c/actions.conf' };
const HEAD = ['[config]', 'challengeDropDir = /www', 'accountKey = /k'];

function diagnose(...lines: string[]): string[] {
  const { report, lines: out } = collect('lematt.conf');
  parseSettings(text(...HEAD, ...lines), { cwd: '/home/u', paths: PATHS }, report);
  return out();
}

/** A base64 secret as tsig-keygen prints it; `pad` forces trailing `=` (which reads as a delimiter). */
function secret(pad: boolean): string {
  for (;;) {
    const s = randomBytes(pad ? 32 : 33).toString('base64');
    if (s.endsWith('=') === pad) return s;
  }
}

describe('diagnostics never print a secret', () => {
  it('masks text longer than a few characters', () => {
    assert.equal(maskText('abcd'), 'abcd');
    assert.equal(maskText('abcdefgh'), 'abcd…');
  });

  for (const pad of [true, false]) {
    it(`a TSIG secret on the line after "tsigSecret:" (${pad ? 'with' : 'without'} "=" padding) is reported without the secret`, () => {
      const s = secret(pad);
      const got = diagnose('[dns:internal]', 'zones = int.example.com', 'provider = rfc2136', 'server = 10.0.0.53', 'tsigKey = acme-key.', 'tsigSecret:', s);
      assert.ok(got.length > 0, 'the stray line is reported');
      assert.ok(got.some((d) => d.startsWith('lematt.conf:10: ')), got.join('\n'));
      for (const d of got) {
        assert.ok(!d.includes(s), d);
        // Not even a long piece of it.
        assert.ok(!d.includes(s.slice(0, 8)), d);
      }
      assert.ok(got.some((d) => d.includes(`"${s.slice(0, 4)}…"`)), `the first characters point at the line: ${got.join('\n')}`);
    });
  }

  it('an EAB key pasted on its own line in [acme:*] is masked; an acme-dns section too', () => {
    const key = randomBytes(32).toString('base64url');
    const got = diagnose('[acme:prod]', 'eabKid = kid-1', 'eabHmacKey =', key, '[dns:a]', 'zones = a.example.com', 'provider = acme-dns', 'apiUrl = https://auth.example.org', 'credentialsFile = /c/acc.json', `pass${key}`);
    assert.ok(got.length >= 2, got.join('\n'));
    for (const d of got) assert.ok(!d.includes(key.slice(0, 8)), d);
  });

  it('values of plain keys are still quoted whole, and sections without secrets are untouched', () => {
    const got = diagnose(
      '[dns:a]', 'zones = ex_ample..com', 'provider = rfc2136', 'server = 10.0.0.53:99999', 'tsigKey = k.', 'tsigAlgorithm = hmac-md5', 'tsigSecret = c2VjcmV0',
      '[dns:b]', 'zones = b.example.com', 'provider = exec', 'command = /bin/true', 'propagationTimout = 5',
    );
    assert.deepEqual(got, [
      'lematt.conf:5: error: zones: "ex_ample..com" is not a zone name (letters, digits, "-" and "_" in dot-separated labels)',
      'lematt.conf:7: error: server: "10.0.0.53:99999" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT',
      'lematt.conf:9: error: tsigAlgorithm: "hmac-md5" is not supported; use hmac-sha256, hmac-sha384, hmac-sha512',
      'lematt.conf:15: warning: unknown key "propagationTimout" in [dns:b] (did you mean propagationTimeout?); known keys: zones, provider, nameservers, propagationTimeout, command, timeout',
    ]);
  });
});
