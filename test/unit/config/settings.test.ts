import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PathCheck, parseSettings, type Settings } from '../../../src/config/settings.ts';
import { collect, text } from './support.ts';

const CWD = '/home/u/lematt';
const PATHS = { configDir: '/c', lemattConf: '/c/lematt.conf', domainsFile: '/c/domains', actionsFile: '/c/actions.conf' };
const REQUIRED = ['challengeDropDir = /var/www/challenges', 'accountKey = conf/account.key'];

function parse(...lines: string[]): { settings: Settings; checks: PathCheck[]; diagnostics: string[] } {
  const { report, lines: formatted } = collect('lematt.conf');
  const result = parseSettings(text(...lines), { cwd: CWD, paths: PATHS }, report);
  return { ...result, diagnostics: formatted() };
}

/** Parses `[config]` with the required keys plus `extra` lines. */
function config(...extra: string[]) {
  return parse('[config]', ...REQUIRED, ...extra);
}

describe('parseSettings: [config]', () => {
  it('fills every default and resolves relative paths against the working directory', () => {
    const { settings, checks, diagnostics } = config();
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(settings, {
      ...PATHS,
      reauthorizeDays: 15, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false,
      challengeDropDir: '/var/www/challenges', accountKey: '/home/u/lematt/conf/account.key',
      keyBitsRSA: 2048, curve: 'prime256v1', rsaTag: 'rsa2048', curveTag: 'prime256v1', actionTimeoutSeconds: 300, prepareWaitSeconds: 10,
      preflight: { enabled: false, resolver: null, port: 80 },
      acme: {
        prod: { directory: 'https://acme-v02.api.letsencrypt.org/directory', contact: [], eab: null, ari: true, profile: null, budget: { enabled: 'auto', ordersPer3Hours: 300, certsPerDomainPerWeek: 50 } },
        test: { directory: 'https://acme-staging-v02.api.letsencrypt.org/directory', contact: [], eab: null, ari: true, profile: null, budget: { enabled: 'auto', ordersPer3Hours: 300, certsPerDomainPerWeek: 50 } },
      },
      dns: [],
    });
    assert.deepEqual(checks, [{ kind: 'challengeDropDir', path: '/var/www/challenges', written: '/var/www/challenges', rawKey: 'challengeDropDir', line: 2 }]);
  });

  const values: { desc: string; lines: string[]; want: Partial<Settings> }[] = [
    { desc: 'reauthorizeDays takes fractions', lines: ['reauthorizeDays = 42.42'], want: { reauthorizeDays: 42.42 } },
    { desc: 'keys are case-insensitive', lines: ['REAUTHORIZEDAYS: 60'], want: { reauthorizeDays: 60 } },
    { desc: 'generateNewCertsAfterDays', lines: ['generateNewCertsAfterDays = 7'], want: { generateNewCertsAfterDays: 7 } },
    ...['1', 'yes', 'TRUE', 'On'].map((v) => ({ desc: `alwaysGenerateNewKeys ${v}`, lines: [`alwaysGenerateNewKeys = ${v}`], want: { alwaysGenerateNewKeys: true } })),
    ...['0', 'no', 'False', 'OFF'].map((v) => ({ desc: `alwaysGenerateNewKeys ${v}`, lines: [`alwaysGenerateNewKeys = ${v}`], want: { alwaysGenerateNewKeys: false } })),
    { desc: 'keyBitsRSA sets the RSA tag', lines: ['keyBitsRSA = 4096'], want: { keyBitsRSA: 4096, rsaTag: 'rsa4096' } },
    { desc: 'curve secp384r1', lines: ['curve = secp384r1'], want: { curve: 'secp384r1', curveTag: 'secp384r1' } },
    { desc: 'curve P-256 is prime256v1; the tag keeps the spelling lematt used in file names', lines: ['curve = P-256'], want: { curve: 'prime256v1', curveTag: 'P-256' } },
    { desc: 'curve P-384', lines: ['curve = P-384'], want: { curve: 'secp384r1', curveTag: 'P-384' } },
    { desc: 'explicit tags win', lines: ['keyBitsRSA = 3072', 'curve = P-384', 'rsaTag = r', 'curveTag = e'], want: { rsaTag: 'r', curveTag: 'e', keyBitsRSA: 3072 } },
    { desc: 'actionTimeout in seconds', lines: ['actionTimeout = 12.5'], want: { actionTimeoutSeconds: 12.5 } },
    { desc: 'prepareWait in seconds, 0 = no wait', lines: ['prepareWait = 2.5'], want: { prepareWaitSeconds: 2.5 } },
    { desc: 'prepareWait off', lines: ['prepareWait: 0'], want: { prepareWaitSeconds: 0 } },
    { desc: 'preflight alone: system resolver, port 80', lines: ['preflight = yes'], want: { preflight: { enabled: true, resolver: null, port: 80 } } },
    { desc: 'preflight off', lines: ['Preflight: Off'], want: { preflight: { enabled: false, resolver: null, port: 80 } } },
    { desc: 'preflight with an IPv4 resolver and a port', lines: ['preflight = 1', 'resolver = 127.0.0.1:8053', 'preflightPort = 5002'], want: { preflight: { enabled: true, resolver: '127.0.0.1:8053', port: 5002 } } },
    { desc: 'a resolver without a port gets 53', lines: ['preflight = on', 'resolver = 192.0.2.53'], want: { preflight: { enabled: true, resolver: '192.0.2.53:53', port: 80 } } },
    { desc: 'an IPv6 resolver in brackets', lines: ['preflight = true', 'resolver = [2001:db8::53]:5353', 'preflightPort = 65535'], want: { preflight: { enabled: true, resolver: '[2001:db8::53]:5353', port: 65535 } } },
    { desc: 'an IPv6 resolver in brackets without a port', lines: ['preflight = yes', 'RESOLVER = [::1]'], want: { preflight: { enabled: true, resolver: '[::1]:53', port: 80 } } },
  ];
  for (const { desc, lines, want } of values) {
    it(desc, () => {
      const { settings, diagnostics } = config(...lines);
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, settings[k as keyof Settings]])), want);
    });
  }

  const RESOLVER = 'must be an IP address and port 1-65535 (53 when left out), like 192.0.2.53:53, [2001:db8::53]:53 or 192.0.2.53, got';
  const problems: { desc: string; lines: string[]; want: string[] }[] = [
    { desc: 'reauthorizeDays not a number', lines: ['reauthorizeDays = soon'], want: ['lematt.conf:4: error: reauthorizeDays: must be a number of days ≥ 0, got "soon"'] },
    { desc: 'reauthorizeDays negative', lines: ['reauthorizeDays = -1'], want: ['lematt.conf:4: error: reauthorizeDays: must be a number of days ≥ 0, got "-1"'] },
    { desc: 'generateNewCertsAfterDays', lines: ['generateNewCertsAfterDays = x'], want: ['lematt.conf:4: error: generateNewCertsAfterDays: must be a number of days ≥ 0 (0 = off), got "x"'] },
    { desc: 'alwaysGenerateNewKeys', lines: ['alwaysGenerateNewKeys = sometimes'], want: ['lematt.conf:4: error: alwaysGenerateNewKeys: must be yes or no (1/yes/true/on, 0/no/false/off), got "sometimes"'] },
    { desc: 'keyBitsRSA too small', lines: ['keyBitsRSA = 1024'], want: ['lematt.conf:4: error: keyBitsRSA: must be a whole number of bits from 2048 to 4096, got "1024"'] },
    { desc: 'keyBitsRSA too big', lines: ['keyBitsRSA = 8192'], want: ['lematt.conf:4: error: keyBitsRSA: must be a whole number of bits from 2048 to 4096, got "8192"'] },
    { desc: 'keyBitsRSA not a number', lines: ['keyBitsRSA = 2048 bits'], want: ['lematt.conf:4: error: keyBitsRSA: must be a whole number of bits from 2048 to 4096, got "2048 bits"'] },
    { desc: 'keyBitsRSA unusual', lines: ['keyBitsRSA = 2500'], want: ['lematt.conf:4: warning: keyBitsRSA: 2500 bits is unusual; Let\'s Encrypt accepts 2048, 3072 and 4096'] },
    { desc: 'curve', lines: ['curve = secp521r1'], want: ['lematt.conf:4: error: curve: "secp521r1" is not supported; use prime256v1 (P-256) or secp384r1 (P-384)'] },
    { desc: 'tag with a slash', lines: ['rsaTag = a/b'], want: ['lematt.conf:4: error: rsaTag: "a/b" cannot be part of a file name (empty, or holds "/" or blanks)'] },
    { desc: 'empty tag', lines: ['curveTag ='], want: ['lematt.conf:4: error: curveTag: "" cannot be part of a file name (empty, or holds "/" or blanks)'] },
    { desc: 'actionTimeout zero', lines: ['actionTimeout = 0'], want: ['lematt.conf:4: error: actionTimeout: must be a number of seconds > 0, got "0"'] },
    { desc: 'prepareWait too long', lines: ['prepareWait = 601'], want: ['lematt.conf:4: error: prepareWait: must be a number of seconds from 0 to 600 (0 = do not wait), got "601"'] },
    { desc: 'preflight not a boolean', lines: ['preflight = maybe', 'resolver = 127.0.0.1:53'], want: ['lematt.conf:4: error: preflight: must be yes or no (1/yes/true/on, 0/no/false/off), got "maybe"'] },
    ...['dns.example:53', '::1', '2001:db8::1:53', '[127.0.0.1]:53', '127.0.0.1:0', '127.0.0.1:65536', '[::1]:', '127.0.0.1:53x', '127.0.0.1:123456', ''].map((v) => ({
      desc: `resolver ${JSON.stringify(v)}`, lines: ['preflight = yes', `resolver = ${v}`], want: [`lematt.conf:5: error: resolver: ${RESOLVER} "${v}"`],
    })),
    ...['0', '65536', '80.5', 'http', '-1'].map((v) => ({
      desc: `preflightPort ${v}`, lines: ['preflight = yes', `preflightPort = ${v}`], want: [`lematt.conf:5: error: preflightPort: must be a port number from 1 to 65535, got "${v}"`],
    })),
    { desc: 'resolver and preflightPort without preflight', lines: ['resolver = 127.0.0.1:53', 'preflightPort = 8080'], want: [
      'lematt.conf:4: warning: resolver: has no effect without "preflight: yes" (except while waiting for prepare commands)',
      'lematt.conf:5: warning: preflightPort: has no effect without "preflight: yes" (except while waiting for prepare commands)',
    ] },
    { desc: 'resolver with preflight: no', lines: ['preflight = no', 'resolver = 127.0.0.1'], want: ['lematt.conf:5: warning: resolver: has no effect without "preflight: yes" (except while waiting for prepare commands)'] },
    { desc: 'unknown key names the known ones', lines: ['reauthorizeDay = 3'], want: ['lematt.conf:4: warning: unknown key "reauthorizeDay" in [config] (did you mean reauthorizeDays?); known keys: reauthorizeDays, generateNewCertsAfterDays, alwaysGenerateNewKeys, challengeDropDir, accountKey, keyBitsRSA, curve, rsaTag, curveTag, actionTimeout, preflight, resolver, preflightPort, prepareWait'] },
    { desc: 'unknown section', lines: ['[acme:staging]'], want: ['lematt.conf:4: warning: unknown section [acme:staging] (did you mean [acme:test]?); known sections: [config], [acme:prod], [acme:test], [dns:<name>]'] },
    { desc: 'a [dns:*] section without zones or provider (the rest: dns.test.ts)', lines: ['[dns:route53]', 'anything = goes'], want: [
      'lematt.conf:5: warning: unknown key "anything" in [dns:route53]; known keys: zones, provider, nameservers, propagationTimeout, server, tsigKey, tsigAlgorithm, tsigSecret, tsigSecretFile, command, timeout, apiUrl, credentialsFile',
      'lematt.conf:4: error: [dns:route53]: zones is required (the zones whose names use this setup, e.g. zones: example.com)',
      'lematt.conf:4: error: [dns:route53]: provider is required (rfc2136, exec, acme-dns)',
    ] },
    { desc: 'bare % in a value', lines: ['rsaTag = rsa%'], want: ['lematt.conf:4: error: rsaTag: a literal "%" must be written "%%" (found "%")'] },
  ];
  for (const { desc, lines, want } of problems) {
    it(`diagnoses ${desc}`, () => assert.deepEqual(config(...lines).diagnostics, want));
  }

  it('%% in a path is a percent sign', () => {
    const { settings, diagnostics } = parse('[config]', 'challengeDropDir = /www', 'accountKey = /keys/100%%.pem');
    assert.deepEqual(diagnostics, []);
    assert.equal(settings.accountKey, '/keys/100%.pem');
  });

  it('a helper key used only by %(name)s is not "unknown"', () => {
    const { settings, diagnostics } = parse('[DEFAULT]', 'base = /srv/le', '[config]', 'challengeDropDir = %(base)s/www', 'accountKey = %(base)s/account.key');
    assert.deepEqual(diagnostics, []);
    assert.equal(settings.accountKey, '/srv/le/account.key');
  });

  it('[DEFAULT] values reach [config]; unknown [DEFAULT] keys are warned about once', () => {
    const { settings, diagnostics } = parse('[DEFAULT]', 'curve = P-384', 'colour = red', '[config]', ...REQUIRED);
    assert.equal(settings.curve, 'secp384r1');
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0]!, /^lematt\.conf:3: warning: unknown key "colour" in \[DEFAULT\]; known keys: reauthorizeDays, .*, eabHmacKeyFile, ari, .*, zones, .*, credentialsFile$/);
  });

  it('requires [config], hinting at a case mismatch', () => {
    assert.deepEqual(parse('[Config]', ...REQUIRED).diagnostics, [
      'lematt.conf:1: warning: unknown section [Config] (did you mean [config]?); known sections: [config], [acme:prod], [acme:test], [dns:<name>]',
      'lematt.conf: error: missing section [config] ([Config] on line 1: section names are case-sensitive)',
    ]);
  });

  it('requires challengeDropDir and accountKey, non-empty', () => {
    assert.deepEqual(parse('', '[config]', 'reauthorizeDays = 1').diagnostics, [
      'lematt.conf:2: error: [config]: challengeDropDir is required (the directory your web server serves as /.well-known/acme-challenge/)',
      'lematt.conf:2: error: [config]: accountKey is required (the ACME account key, an RSA private key in PEM)',
    ]);
    assert.deepEqual(parse('[config]', 'challengeDropDir =', 'accountKey = k').diagnostics, ['lematt.conf:2: error: challengeDropDir: empty path']);
  });
});

describe('parseSettings: [acme:prod] and [acme:test]', () => {
  const defaults = { ari: true, profile: null, budget: { enabled: 'auto' as const, ordersPer3Hours: 300, certsPerDomainPerWeek: 50 } };
  const good: { desc: string; lines: string[]; want: Settings['acme']['test'] }[] = [
    { desc: 'https directory, contacts normalised to mailto:', lines: ['directory = https://ca.example/dir', 'contact = ops@example.com MAILTO:x@example.org'],
      want: { directory: 'https://ca.example/dir', contact: ['mailto:ops@example.com', 'mailto:x@example.org'], eab: null, ...defaults } },
    ...['http://localhost:14000/dir', 'http://127.0.0.2/dir', 'http://[::1]:14000/dir'].map((url) => ({
      desc: `plain http to loopback ${url}`, lines: [`directory = ${url}`], want: { directory: url, contact: [], eab: null, ...defaults },
    })),
    { desc: 'EAB with an inline key, padding dropped', lines: ['eabKid = kid-1', 'eabHmacKey = abc_-12=='],
      want: { directory: 'https://acme-staging-v02.api.letsencrypt.org/directory', contact: [], eab: { kid: 'kid-1', hmacKey: 'abc_-12' }, ...defaults } },
    { desc: 'ari off, a profile, a rate budget for an override', lines: ['ari = no', 'profile = shortlived', 'rateBudget = yes', 'ordersPer3Hours = 1000', 'certsPerDomainPerWeek = 500'],
      want: { directory: 'https://acme-staging-v02.api.letsencrypt.org/directory', contact: [], eab: null, ari: false, profile: { name: 'shortlived', line: 6 }, budget: { enabled: true, ordersPer3Hours: 1000, certsPerDomainPerWeek: 500 } } },
  ];
  for (const { desc, lines, want } of good) {
    it(desc, () => {
      const { settings, diagnostics } = config('[acme:test]', ...lines);
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(settings.acme.test, want);
    });
  }

  it('eabHmacKeyFile is left for load.ts to read', () => {
    const { settings, checks, diagnostics } = config('[acme:prod]', 'eabKid = k', 'eabHmacKeyFile = secrets/hmac');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(settings.acme.prod.eab, { kid: 'k', hmacKey: '' });
    assert.deepEqual(checks.find((c) => c.kind === 'eabHmacKeyFile'), { kind: 'eabHmacKeyFile', path: '/home/u/lematt/secrets/hmac', written: 'secrets/hmac', rawKey: 'eabHmacKeyFile', line: 6, endpoint: 'prod' });
  });

  const bad: { desc: string; lines: string[]; want: string[] }[] = [
    { desc: 'plain http elsewhere', lines: ['directory = http://ca.example/dir'], want: ['lematt.conf:5: error: directory: "http://ca.example/dir" must be an https URL (plain http only for localhost, 127.0.0.0/8 or ::1)'] },
    { desc: 'not a URL', lines: ['directory = ca.example'], want: ['lematt.conf:5: error: directory: "ca.example" is not a URL'] },
    { desc: 'a non-mail contact', lines: ['contact = tel:+15551234'], want: ['lematt.conf:5: error: contact: "tel:+15551234" is not an e-mail address or mailto: URL'] },
    { desc: 'comma-separated contacts', lines: ['contact = a@example.com, b@example.com'], want: ['lematt.conf:5: error: contact: "a@example.com," is not an e-mail address or mailto: URL (separate addresses with spaces)'] },
    { desc: 'kid without key', lines: ['eabKid = k'], want: ['lematt.conf:5: error: eabKid: needs eabHmacKey or eabHmacKeyFile in [acme:test]'] },
    { desc: 'key without kid', lines: ['eabHmacKey = abc'], want: ['lematt.conf:5: error: eabHmacKey: needs eabKid in [acme:test]'] },
    { desc: 'key and key file', lines: ['eabKid = k', 'eabHmacKey = abc', 'eabHmacKeyFile = f'], want: ['lematt.conf:7: error: eabHmacKeyFile: set eabHmacKey or eabHmacKeyFile, not both (eabHmacKey is on line 6)'] },
    { desc: 'key not base64url', lines: ['eabKid = k', 'eabHmacKey = ab+/cd'], want: ['lematt.conf:6: error: eabHmacKey: not a base64url key (letters, digits, "-" and "_")'] },
    { desc: 'unknown key', lines: ['email = a@example.com'], want: ['lematt.conf:5: warning: unknown key "email" in [acme:test]; known keys: directory, contact, eabKid, eabHmacKey, eabHmacKeyFile, ari, profile, rateBudget, ordersPer3Hours, certsPerDomainPerWeek'] },
    { desc: 'bad ari, profile and budget values', lines: ['ari = maybe', 'profile = short lived', 'rateBudget = sometimes', 'ordersPer3Hours = 0', 'certsPerDomainPerWeek = many'],
      want: [
        'lematt.conf:5: error: ari: must be yes or no, got "maybe"',
        'lematt.conf:6: error: profile: "short lived" is not a profile name (letters, digits, ".", "_", "-")',
        'lematt.conf:7: error: rateBudget: must be auto, yes or no, got "sometimes"',
        'lematt.conf:8: error: ordersPer3Hours: must be a whole number from 1 to 1000000, got "0"',
        'lematt.conf:9: error: certsPerDomainPerWeek: must be a whole number from 1 to 1000000, got "many"',
      ] },
  ];
  for (const { desc, lines, want } of bad) {
    it(`diagnoses ${desc}`, () => assert.deepEqual(config('[acme:test]', ...lines).diagnostics, want));
  }
});
