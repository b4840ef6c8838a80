import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/config/diagnostics.ts';
import { checkWildcardNames, findDnsSetup, parseZoneName } from '../../../src/config/dns-names.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { parseConfig } from '../../../src/config/parse.ts';
import { parseSettings } from '../../../src/config/settings.ts';
import { readAcmeDnsAccounts } from '../../../src/dns/providers/acme-dns/descriptor.ts';
import { readTsigSecret } from '../../../src/dns/providers/rfc2136/descriptor.ts';
import { parseServerAddress } from '../../../src/dns/server-address.ts';
import { collect, text } from './support.ts';

const PATHS = { configDir: '/c', lemattConf: '/c/lematt.conf', domainsFile: '/c/domains', actionsFile: '/c/actions.conf' };
const HEAD = ['[config]', 'challengeDropDir = /www', 'accountKey = /k'];
const SECRET = 'c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw==';
const RFC2136 = ['provider = rfc2136', 'server = 10.0.0.53', 'tsigKey = acme-key.', `tsigSecret = ${SECRET}`];

/** Parses lematt.conf made of HEAD plus `lines` (line 4 is the first of them). */
function parse(...lines: string[]) {
  const { report, lines: diagnostics } = collect('lematt.conf');
  const result = parseSettings(text(...HEAD, ...lines), { cwd: '/home/u', paths: PATHS }, report);
  return { dns: result.settings.dns, checks: result.checks, diagnostics: diagnostics() };
}

describe('[dns:*] sections', () => {
  it('reads an rfc2136 setup with defaults', () => {
    const { dns, diagnostics } = parse('[dns:internal]', 'zones = Int.Example.com example.net.', ...RFC2136);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(dns, [{
      name: 'internal', line: 4, zones: ['int.example.com', 'example.net'],
      provider: { kind: 'rfc2136', server: { host: '10.0.0.53', port: 53 }, tsig: { name: 'acme-key.', algorithm: 'hmac-sha256', secret: SECRET } },
      nameservers: null, propagationTimeoutSeconds: 120,
    }]);
  });

  it('reads exec and acme-dns setups; files become checks, relative to the working directory', () => {
    const { dns, checks, diagnostics } = parse(
      '[dns:hook]', 'zones = a.example.com', 'provider = exec', 'command = /usr/local/bin/hook --zone a', 'nameservers = 192.0.2.1 [2001:db8::1]:5353', 'propagationTimeout = 7.5',
      '[dns:acme]', 'zones = b.example.com', 'provider = acme-dns', 'apiUrl = https://auth.example.org', 'credentialsFile = conf/acmedns.json',
      '[dns:file]', 'zones = c.example.com', 'provider = rfc2136', 'server = ns1.example.com:5353', 'tsigKey = k', 'tsigAlgorithm = hmac-sha384', 'tsigSecretFile = /etc/tsig.secret',
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(dns.map((s) => [s.name, s.provider, s.nameservers, s.propagationTimeoutSeconds]), [
      ['hook', { kind: 'exec', command: '/usr/local/bin/hook --zone a', timeoutSeconds: 60 }, [{ host: '192.0.2.1', port: 53 }, { host: '2001:db8::1', port: 5353 }], 7.5],
      ['acme', { kind: 'acme-dns', apiUrl: 'https://auth.example.org', credentialsFile: '/home/u/conf/acmedns.json', accounts: {} }, null, 120],
      ['file', { kind: 'rfc2136', server: { host: 'ns1.example.com', port: 5353 }, tsig: { name: 'k', algorithm: 'hmac-sha384', secret: '' } }, null, 120],
    ]);
    assert.deepEqual(checks.filter((c) => c.setup).map((c) => [c.kind, c.secret, c.path, c.line, c.setup]), [
      ['dnsSecretFile', { provider: 'acme-dns', key: 'credentialsFile' }, '/home/u/conf/acmedns.json', 14, 'dns:acme'],
      ['dnsSecretFile', { provider: 'rfc2136', key: 'tsigSecretFile' }, '/etc/tsig.secret', 21, 'dns:file'],
    ]);
  });

  const problems: { desc: string; lines: string[]; want: string[] }[] = [
    { desc: 'unknown provider lists the known ones', lines: ['[dns:x]', 'zones = a.example.com', 'provider = route53'], want: ['lematt.conf:6: error: provider: unknown DNS provider "route53"; known providers: rfc2136, exec, acme-dns'] },
    { desc: 'missing secret', lines: ['[dns:x]', 'zones = a.example.com', 'provider = rfc2136', 'server = 10.0.0.53', 'tsigKey = k'], want: ["lematt.conf:4: error: [dns:x]: the TSIG secret is missing: set tsigSecretFile (a file only certfleet's user can read) or tsigSecret"] },
    { desc: 'a secret that is not base64 is not repeated', lines: ['[dns:x]', 'zones = a.example.com', 'provider = rfc2136', 'server = 10.0.0.53', 'tsigKey = k', 'tsigSecret = hunter2!'], want: ['lematt.conf:9: error: tsigSecret: not a base64 secret (as tsig-keygen prints it)'] },
    { desc: 'missing server and key', lines: ['[dns:x]', 'zones = a.example.com', `tsigSecret = ${SECRET}`, 'provider = rfc2136'], want: [
      'lematt.conf:4: error: [dns:x]: server is required with provider rfc2136 (the primary that accepts updates, ADDRESS:PORT)',
      "lematt.conf:4: error: [dns:x]: tsigKey is required with provider rfc2136 (the key name, as in the server's key statement)",
    ] },
    { desc: 'exec without command, bad timeout', lines: ['[dns:x]', 'zones = a.example.com', 'provider = exec', 'timeout = 0'], want: [
      'lematt.conf:4: error: [dns:x]: command is required with provider exec (the hook, run as: command present|cleanup FQDN VALUE)',
      'lematt.conf:7: error: timeout: must be a number of seconds > 0, got "0"',
    ] },
    { desc: 'bad nameservers', lines: ['[dns:x]', 'zones = a.example.com', ...RFC2136, 'nameservers = 10.0.0.1:0 [10.0.0.2]:53 ok.example.com'], want: [
      'lematt.conf:10: error: nameservers: "10.0.0.1:0" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT',
      'lematt.conf:10: error: nameservers: "[10.0.0.2]:53" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT',
    ] },
    { desc: 'a key of another provider is a warning', lines: ['[dns:x]', 'zones = a.example.com', ...RFC2136, 'command = /bin/hook'], want: ['lematt.conf:10: warning: command: has no effect with provider rfc2136 (it is a key of exec)'] },
    { desc: 'an unknown key names the known ones', lines: ['[dns:x]', 'zones = a.example.com', ...RFC2136, 'tsigSecert = x'], want: ['lematt.conf:10: warning: unknown key "tsig…" in [dns:x] (did you mean tsigSecret?); known keys: zones, provider, nameservers, propagationTimeout, server, tsigKey, tsigAlgorithm, tsigSecret, tsigSecretFile'] },
    { desc: 'acme-dns over plain http to another host is a warning', lines: ['[dns:x]', 'zones = a.example.com', 'provider = acme-dns', 'apiUrl = http://auth.example.org', 'credentialsFile = a.json'], want: ['lematt.conf:7: warning: apiUrl: plain http sends the acme-dns password unencrypted; use https'] },
    { desc: 'acme-dns over http to loopback is fine', lines: ['[dns:x]', 'zones = a.example.com', 'provider = acme-dns', 'apiUrl = http://127.0.0.1:8080', 'credentialsFile = a.json'], want: [] },
    { desc: 'zones of two sections nested: an error naming both lines', lines: ['[dns:a]', 'zones = example.com', ...RFC2136, '[dns:b]', 'zones = other.net int.example.com', ...RFC2136], want: ['lematt.conf:11: error: zones: "int.example.com" overlaps "example.com" of [dns:a] (line 5); a name must belong to one [dns:*] section'] },
    { desc: 'the same zone in two sections', lines: ['[dns:a]', 'zones = example.com', ...RFC2136, '[dns:b]', 'zones = EXAMPLE.com.', ...RFC2136], want: ['lematt.conf:11: error: zones: "example.com" overlaps "example.com" of [dns:a] (line 5); a name must belong to one [dns:*] section'] },
    { desc: 'a zone listed twice in one section', lines: ['[dns:a]', 'zones = example.com example.com', ...RFC2136], want: ['lematt.conf:5: warning: zones: "example.com" is listed twice'] },
  ];
  for (const { desc, lines, want } of problems) it(`diagnoses ${desc}`, () => assert.deepEqual(parse(...lines).diagnostics, want));

  it('a section with errors is left out of Settings.dns, but its zones still count for domains', () => {
    const { report, lines } = collect('lematt.conf');
    const result = parseSettings(text(...HEAD, '[dns:x]', 'zones = example.net', 'provider = route53'), { cwd: '/', paths: PATHS }, report);
    assert.deepEqual(result.settings.dns, []);
    assert.deepEqual(result.dnsZones, [{ zone: 'example.net', section: 'dns:x', line: 5 }]);
    assert.equal(lines().length, 1);
  });
});

describe('wildcards and [dns:*] zones (parse.ts)', () => {
  const input = (conf: string[], domains: string) => ({
    cwd: '/', configDir: '/c',
    lemattConf: { path: '/c/lematt.conf', display: 'lematt.conf', text: text(...HEAD, ...conf) },
    domains: { path: '/c/domains', display: 'domains', text: domains },
    actions: { path: '/c/actions.conf', display: 'actions.conf', text: '[default]\n' },
  });
  it('a wildcard under a zone is fine; "example.net *" expands; one without is an error', () => {
    const { config, diagnostics } = parseConfig(input(['[dns:n]', 'zones = example.net', ...RFC2136], 'example.net *\n*.a.example.net\nexample.org *\n'));
    assert.equal(config, null);
    assert.deepEqual(diagnostics.map(formatDiagnostic), ['domains:3: error: wildcard *.example.org needs DNS-01 validation: no [dns:*] section of lematt.conf lists a zone holding example.org']);
  });
  it('the config is complete when every wildcard is covered', () => {
    const { config, diagnostics } = parseConfig(input(['[dns:n]', 'zones = example.net', ...RFC2136], 'example.net *\n'));
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(config!.domains[0]!.names, ['example.net', '*.example.net']);
  });
  it('checkWildcardNames reports a name once per line', () => {
    const { report, lines } = collect('domains');
    checkWildcardNames([{ line: 1, tokens: [], names: ['*.a.example.com', '*.A.example.com', 'b.example.com'] }], [], report);
    assert.equal(lines().length, 1);
  });
});

describe('dns names', () => {
  const setups = [{ name: 'a', zones: ['example.com'] }, { name: 'b', zones: ['example.net', 'x.example.org'] }];
  const which: [string, string | undefined][] = [
    ['example.com', 'a'], ['WWW.Example.com.', 'a'], ['*.example.com', 'a'], ['*.deep.x.example.org', 'b'],
    ['notexample.com', undefined], ['example.org', undefined], ['_acme-challenge.www.example.net', 'b'],
  ];
  for (const [name, want] of which) it(`findDnsSetup(${name}) = ${want}`, () => assert.equal(findDnsSetup(name, setups)?.name, want));

  const servers: [string, { host: string; port: number } | null][] = [
    ['10.0.0.53', { host: '10.0.0.53', port: 53 }], ['10.0.0.53:5353', { host: '10.0.0.53', port: 5353 }],
    ['[2001:db8::53]:53', { host: '2001:db8::53', port: 53 }], ['2001:db8::53', { host: '2001:db8::53', port: 53 }],
    ['ns1.example.com.', { host: 'ns1.example.com', port: 53 }], ['ns1:54', { host: 'ns1', port: 54 }],
    ['[10.0.0.1]:53', null], ['10.0.0.1:65536', null], ['ns_1.example.com', null], ['', null], ['a:b:c', null],
  ];
  for (const [text, want] of servers) it(`parseServerAddress(${JSON.stringify(text)})`, () => assert.deepEqual(parseServerAddress(text), want));

  for (const [text, want] of [['Example.COM.', 'example.com'], ['_acme.example.org', '_acme.example.org'], ['a..b', null], ['*.example.com', null], ['', null]] as const) {
    it(`parseZoneName(${JSON.stringify(text)})`, () => assert.equal(parseZoneName(text), want));
  }
});

describe('files of [dns:*] sections', () => {
  const cases: { desc: string; text: string; want: ReturnType<typeof readTsigSecret> }[] = [
    { desc: 'a bare secret', text: `${SECRET}\n`, want: { secret: SECRET } },
    { desc: 'tsig-keygen output', text: `key "acme-key" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`, want: { secret: SECRET, name: 'acme-key' } },
    { desc: 'a key statement without secret', text: 'key "k" { algorithm hmac-sha256; };', want: { problem: 'its key statement has no secret "…"; clause' } },
    { desc: 'an empty file', text: '\n', want: { problem: 'empty; it must hold the base64 secret, or a key statement as tsig-keygen prints it' } },
    { desc: 'something else', text: 'password=hunter2', want: { problem: 'not a base64 secret nor a key statement as tsig-keygen prints it' } },
  ];
  for (const c of cases) it(`readTsigSecret: ${c.desc}`, () => assert.deepEqual(readTsigSecret(c.text), c.want));

  it('readAcmeDnsAccounts: the format acme-dns clients store', () => {
    assert.deepEqual(readAcmeDnsAccounts(JSON.stringify({ 'example.com': { username: 'u', password: 'p', subdomain: 's', fulldomain: 's.auth.example.org', allowfrom: [] } })), {
      'example.com': { username: 'u', password: 'p', subdomain: 's', fulldomain: 's.auth.example.org' },
    });
    assert.equal(readAcmeDnsAccounts('{"example.com": {"username": "u", "password": "p"}}'), 'the account of "example.com" lacks subdomain');
    assert.equal(readAcmeDnsAccounts('[]'), 'must be a JSON object of accounts keyed by name');
    assert.equal(readAcmeDnsAccounts('{}'), 'holds no accounts');
    assert.match(readAcmeDnsAccounts('{') as string, /^not JSON \(/);
    // An unquoted password: the message says where, never what (V8's own message quotes the text).
    const unquoted = readAcmeDnsAccounts('{\n  "example.com": {\n    "username": "u",\n    "password": s3cretPassw0rd,\n    "subdomain": "s"\n  }\n}\n') as string;
    assert.match(unquoted, /^not JSON( \(line 4\))?; check its quotes and commas$/);
    assert.ok(!unquoted.includes('s3cret') && !unquoted.includes('s3'), unquoted);
  });

  it('loadConfig fills secret and accounts from files, warns when every user may read them, never shows a secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certfleet-dnsconf-'));
    try {
      const secret = randomBytes(32).toString('base64');
      await mkdir(join(dir, 'drop'));
      await writeFile(join(dir, 'tsig.secret'), `key "acme-key." { algorithm hmac-sha256; secret "${secret}"; };\n`, { mode: 0o600 });
      await chmod(join(dir, 'tsig.secret'), 0o600);
      await writeFile(join(dir, 'open.secret'), `${secret}\n`);
      await chmod(join(dir, 'open.secret'), 0o644);
      await writeFile(join(dir, 'acmedns.json'), JSON.stringify({ 'c.example.com': { username: 'u', password: 'pw-xyz', subdomain: 's' } }));
      await chmod(join(dir, 'acmedns.json'), 0o640);
      await writeFile(join(dir, 'domains'), 'a.example.com *\nb.example.com *\nc.example.com *\n');
      await writeFile(join(dir, 'actions.conf'), '[default]\n');
      await writeFile(join(dir, 'lematt.conf'), text(
        '[config]', 'challengeDropDir = drop', 'accountKey = account.key',
        '[dns:a]', 'zones = a.example.com', 'provider = rfc2136', 'server = 127.0.0.1', 'tsigKey = acme-key.', 'tsigSecretFile = tsig.secret',
        '[dns:b]', 'zones = b.example.com', 'provider = rfc2136', 'server = 127.0.0.1', 'tsigKey = other-key', 'tsigSecretFile = open.secret',
        '[dns:c]', 'zones = c.example.com', 'provider = acme-dns', 'apiUrl = https://auth.example.org', 'credentialsFile = acmedns.json',
      ));
      const { config, diagnostics } = await loadConfig({ configPath: 'lematt.conf', cwd: dir });
      const shown = diagnostics.map(formatDiagnostic);
      assert.deepEqual(shown, ['lematt.conf:15: warning: tsigSecretFile: "open.secret" is readable by every user (mode 0644); it holds a secret: chmod o-r it']);
      const [a, b, c] = config!.settings.dns;
      assert.deepEqual([a!.provider.kind === 'rfc2136' && a!.provider.tsig.secret, b!.provider.kind === 'rfc2136' && b!.provider.tsig.secret], [secret, secret]);
      assert.deepEqual(c!.provider.kind === 'acme-dns' && c!.provider.accounts, { 'c.example.com': { username: 'u', password: 'pw-xyz', subdomain: 's' } });
      assert.ok(!shown.join('\n').includes(secret));

      await writeFile(join(dir, 'tsig.secret'), 'key "someone-else" { algorithm hmac-sha256; secret "not base64!"; };');
      await rm(join(dir, 'acmedns.json'));
      const broken = (await loadConfig({ configPath: 'lematt.conf', cwd: dir })).diagnostics.map(formatDiagnostic);
      assert.deepEqual(broken, [
        'lematt.conf:9: error: tsigSecretFile: "tsig.secret": the secret of its key statement is not base64',
        'lematt.conf:15: warning: tsigSecretFile: "open.secret" is readable by every user (mode 0644); it holds a secret: chmod o-r it',
        'lematt.conf:20: error: credentialsFile: "acmedns.json": cannot read: no such file or directory',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
