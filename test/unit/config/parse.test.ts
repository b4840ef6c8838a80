import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/config/diagnostics.ts';
import { orderDiagnostics, parseConfig } from '../../../src/config/parse.ts';
import { text } from './support.ts';

const LEMATT = text('[config]', 'challengeDropDir = /www', 'accountKey = /k/account.key');
const DOMAINS = text('example.com www mail', 'other.net www.other.org api');
const ACTIONS = text('[default]', 'update = ["reload"]', '[mail]', 'domains = mail.example.com');

function input(texts: { lemattConf?: string | null; domains?: string | null; actions?: string | null }) {
  const source = (name: string, body: string | null | undefined, fallback: string) =>
    ({ path: `/c/${name}`, display: name, text: body === undefined ? fallback : body });
  return {
    cwd: '/work', configDir: '/c',
    lemattConf: source('lematt.conf', texts.lemattConf, LEMATT),
    domains: source('domains', texts.domains, DOMAINS),
    actions: source('actions.conf', texts.actions, ACTIONS),
  };
}

describe('parseConfig', () => {
  it('returns the typed config when all three files are clean', () => {
    const { config, diagnostics, checks } = parseConfig(input({}));
    assert.deepEqual(diagnostics, []);
    assert.equal(config!.settings.domainsFile, '/c/domains');
    assert.deepEqual(config!.domains.map((d) => d.names.length), [3, 3]);
    assert.equal(config!.actions.overrides[0]!.name, 'mail');
    assert.deepEqual(checks.map((c) => c.kind), ['challengeDropDir']);
  });

  it('reports the problems of all three files, ordered by file then line', () => {
    const { config, diagnostics } = parseConfig(input({
      lemattConf: text('[config]', 'challengeDropDir = /www', 'accountKey = /k', 'curve = P-521', 'reauthorizeDays = x'),
      domains: text('example.com *', 'localhost'),
      actions: text('[default]', 'update = "reload"', '[web]', 'domains = www.example.org'),
    }));
    assert.equal(config, null);
    assert.deepEqual(diagnostics.map(formatDiagnostic), [
      'lematt.conf:4: error: curve: "P-521" is not supported; use prime256v1 (P-256) or secp384r1 (P-384)',
      'lematt.conf:5: error: reauthorizeDays: must be a number of days ≥ 0, got "x"',
      'domains:1: error: wildcard *.example.com needs DNS-01 validation: no [dns:*] section of lematt.conf lists a zone holding example.com',
      'domains:2: error: "localhost": needs at least two labels (e.g. localhost.example.com)',
      'actions.conf:2: error: update: must be a JSON array of strings, e.g. ["reload"]',
      'actions.conf:4: warning: "www.example.org" in [web] is on no line of domains; it has no effect',
    ]);
  });

  it('warnings alone keep the config', () => {
    const { config, diagnostics } = parseConfig(input({ domains: text('example.com www mail # main') }));
    assert.equal(diagnostics.length, 1);
    assert.notEqual(config, null);
  });

  it('an unreadable file gives no config, and skips the domains cross-check', () => {
    const { config, diagnostics } = parseConfig(input({ domains: null, actions: text('[default]', '[x]', 'domains = a.example.com') }));
    assert.equal(config, null);
    assert.deepEqual(diagnostics, []);
  });

  it('[DEFAULT] problems seen from several sections are reported once', () => {
    const { diagnostics } = parseConfig(input({ actions: text('[DEFAULT]', 'update = ["date +%s"]', '[default]', '[every]') }));
    assert.deepEqual(diagnostics.map(formatDiagnostic), ['actions.conf:2: error: update: a literal "%" must be written "%%" (found "%s"]")']);
  });
});

describe('orderDiagnostics', () => {
  it('orders by the given files, then line, keeping report order on ties, and drops repeats', () => {
    const d = (file: string, line: number, message: string) => ({ file, line, severity: 'error' as const, message });
    const ordered = orderDiagnostics(
      [d('b', 2, 'x'), d('a', 5, 'y'), d('other', 1, 'z'), d('a', 0, 'w'), d('b', 2, 'v'), d('a', 5, 'y')],
      ['a', 'b'],
    );
    assert.deepEqual(ordered.map(formatDiagnostic), ['a: error: w', 'a:5: error: y', 'b:2: error: x', 'b:2: error: v', 'other:1: error: z']);
  });
});
