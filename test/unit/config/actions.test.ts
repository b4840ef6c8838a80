import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActionsConfig, checkOverrideNames, parseActions, sectionFor } from '../../../src/config/actions.ts';
import { collect, text } from './support.ts';

function parse(...lines: string[]): { actions: ActionsConfig | null; diagnostics: string[] } {
  const { report, lines: formatted } = collect('actions.conf');
  return { actions: parseActions(text(...lines), '/c/actions.conf', report), diagnostics: formatted() };
}

describe('parseActions: sections', () => {
  it('reads [default], [every] and overrides with their commands and lines', () => {
    const { actions, diagnostics } = parse(
      '[default]',
      'uploadCerts = ["rsync -a CERTS host:/etc/ssl/"]',
      'UPDATE: ["sudo service nginx reload",',
      '         "ssh mail reload"]',
      '[every]',
      '[mail]',
      'domains = mail.example.com',
      '   smtp.example.com',
      'prepare = ["ssh -t mail serve DOMAIN"]',
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(actions, {
      file: '/c/actions.conf',
      default: {
        name: 'default', line: 1, domains: [], domainsLine: 1, prepare: [], uploadKeys: [],
        uploadCerts: [{ command: 'rsync -a CERTS host:/etc/ssl/', line: 2 }],
        update: [{ command: 'sudo service nginx reload', line: 3 }, { command: 'ssh mail reload', line: 4 }],
      },
      every: { name: 'every', line: 5, domains: [], domainsLine: 5, prepare: [], uploadCerts: [], uploadKeys: [], update: [] },
      overrides: [{
        name: 'mail', line: 6, domains: ['mail.example.com', 'smtp.example.com'], domainsLine: 7,
        prepare: [{ command: 'ssh -t mail serve DOMAIN', line: 9 }], uploadCerts: [], uploadKeys: [], update: [],
      }],
    });
  });

  it('[every] is optional; overrides inherit nothing from [default]', () => {
    const { actions, diagnostics } = parse('[default]', 'update = ["a"]', '[web]', 'domains = www.example.com');
    assert.deepEqual(diagnostics, []);
    assert.equal(actions!.every, null);
    assert.deepEqual(actions!.overrides[0]!.update, []);
  });

  it('[DEFAULT] entries reach every section, and %(x)s works', () => {
    const { actions, diagnostics } = parse('[DEFAULT]', 'host = mail', 'update = ["ssh %(host)s reload", "df -h | grep 9%%"]', '[default]');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(actions!.default.update.map((c) => c.command), ['ssh mail reload', 'df -h | grep 9%']);
  });

  it('sectionFor: the override listing the exact name, else [default]', () => {
    const { actions } = parse('[default]', '[mail]', 'domains = mail.example.com');
    assert.equal(sectionFor(actions!, 'mail.example.com').name, 'mail');
    assert.equal(sectionFor(actions!, 'Mail.example.com').name, 'default');
    assert.equal(sectionFor(actions!, 'www.example.com').name, 'default');
  });

  const problems: { desc: string; lines: string[]; want: string[] }[] = [
    { desc: 'no [default]', lines: ['[every]'], want: ['actions.conf: error: missing section [default] (the actions for every name not in an override)'] },
    { desc: '[Default] is not [default]', lines: ['[Default]', 'domains = a.example.com'], want: [
      'actions.conf: error: missing section [default] (the actions for every name not in an override); [Default] on line 1 does not count: section names are case-sensitive',
    ] },
    { desc: 'an override without domains', lines: ['[default]', '[mail]', 'update = ["x"]'], want: ['actions.conf:2: error: [mail]: an override section needs "domains:" listing the names it covers'] },
    { desc: 'an override with empty domains', lines: ['[default]', '[mail]', 'domains ='], want: ['actions.conf:3: warning: domains: lists no names; [mail] applies to nothing'] },
    { desc: 'domains in [default]', lines: ['[default]', 'domains = a.example.com'], want: ['actions.conf:2: error: "domains" is not allowed in [default]; list names in an override section'] },
    { desc: 'domains in [every]', lines: ['[default]', '[every]', 'Domains = a.example.com'], want: ['actions.conf:3: error: "Domains" is not allowed in [every]; list names in an override section'] },
    { desc: 'domains inherited from [DEFAULT]', lines: ['[DEFAULT]', 'domains = a.example.com', '[default]'], want: [
      'actions.conf:2: error: "domains" is not allowed in [default] (inherited from [DEFAULT]); list names in an override section',
    ] },
    { desc: 'ocspStapleRequired is ignored with a warning', lines: ['[default]', 'ocspStapleRequired = yes', '[m]', 'domains = m.example.com', 'ocspstaplerequired = no'], want: [
      'actions.conf:2: warning: ocspStapleRequired: OCSP must-staple is no longer issued; ignored',
      'actions.conf:5: warning: ocspStapleRequired: OCSP must-staple is no longer issued; ignored',
    ] },
    { desc: 'ocspStapleRequired in [every]', lines: ['[default]', '[every]', 'ocspStapleRequired = yes'], want: ['actions.conf:3: error: "ocspStapleRequired" is not allowed in [every]'] },
    { desc: 'a name in two overrides', lines: ['[default]', '[a]', 'domains = x.example.com y.example.com', '[b]', 'domains = y.example.com'], want: [
      'actions.conf:5: error: "y.example.com" is in [a] (line 3) and in [b] (line 5); a name may belong to one override only',
    ] },
    { desc: 'a name twice in one override', lines: ['[default]', '[a]', 'domains = x.example.com x.example.com'], want: ['actions.conf:3: warning: "x.example.com" is listed twice in [a]'] },
    { desc: 'a typo in a key', lines: ['[default]', 'uploadCert = ["x"]'], want: [
      'actions.conf:2: warning: unknown key "uploadCert" in [default] (did you mean uploadCerts?); known keys: prepare, uploadCerts, uploadKeys, update, ocspStapleRequired',
    ] },
    { desc: 'bare % in a command', lines: ['[default]', 'update = ["date +%Y"]'], want: ['actions.conf:2: error: update: a literal "%" must be written "%%" (found "%Y"]")'] },
  ];
  for (const { desc, lines, want } of problems) {
    it(`diagnoses ${desc}`, () => assert.deepEqual(parse(...lines).diagnostics, want));
  }
});

describe('parseActions: command lists', () => {
  const problems: { desc: string; value: string[]; want: string[] }[] = [
    { desc: 'an inline comment', value: ['update = ["x"] # reload'], want: ['actions.conf:2: error: update: text after the JSON array: "# reload" (there are no inline comments: put it on a line of its own)'] },
    { desc: 'other text after the array', value: ['update = ["x"], ["y"]'], want: ['actions.conf:2: error: update: text after the JSON array: ", ["y"]"'] },
    { desc: 'a bare string', value: ['update = "service nginx reload"'], want: ['actions.conf:2: error: update: must be a JSON array of strings, e.g. ["service nginx reload"]'] },
    { desc: 'an object', value: ['update = {"a": 1}'], want: ['actions.conf:2: error: update: must be a JSON array of strings, got an object'] },
    { desc: 'an empty value', value: ['prepare ='], want: ['actions.conf:2: error: prepare: empty value; write [] for no commands, or remove the key'] },
    { desc: 'non-string elements', value: ['update = ["a", 1, ["b"]]'], want: [
      'actions.conf:2: error: update: element 2 must be a string, got a number',
      'actions.conf:2: error: update: element 3 must be a string, got an array',
    ] },
    { desc: 'empty commands', value: ['uploadKeys = ["", "  "]'], want: [
      'actions.conf:2: error: uploadKeys: element 1 is an empty command',
      'actions.conf:2: error: uploadKeys: element 2 is an empty command',
    ] },
    { desc: 'single quotes', value: ["update = ['x']"], want: ['actions.conf:2: error: update: not valid JSON: strings need double quotes, e.g. ["cmd"]'] },
    { desc: 'a trailing comma, on its line', value: ['update = ["a",', '   "b",', '   ]'], want: ['actions.conf:3: error: update: not valid JSON: remove the comma before "]"'] },
    { desc: 'an unterminated list, on the line where JSON stops', value: ['update = ["a",', '   "b"'], want: [
      'actions.conf:3: error: update: not valid JSON (Expected \',\' or \']\' after array element); write a JSON array of strings, e.g. ["service nginx reload"]',
    ] },
    { desc: 'a continuation not indented', value: ['update = ["a",', '"b"]'], want: [
      'actions.conf:3: error: cannot parse ""b"]": expected [section], key = value, key: value, or a # comment',
      'actions.conf:2: error: update: not valid JSON (Unexpected end of JSON input); write a JSON array of strings, e.g. ["service nginx reload"]',
    ] },
  ];
  for (const { desc, value, want } of problems) {
    it(`diagnoses ${desc}`, () => assert.deepEqual(parse('[default]', ...value).diagnostics, want));
  }

  it('accepts [] and JSON escapes', () => {
    const { actions, diagnostics } = parse('[default]', 'prepare = []', 'update = ["ssh h \\"a b\\"", "echo \\u0041"]');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(actions!.default.update.map((c) => c.command), ['ssh h "a b"', 'echo A']);
  });

  it('gives each command of a multi-line list its own line, blank lines included', () => {
    const { actions } = parse('[default]', 'update = [', '    "a",', '', '    "b", "c"', '  ]');
    assert.deepEqual(actions!.default.update, [{ command: 'a', line: 3 }, { command: 'b', line: 5 }, { command: 'c', line: 5 }]);
  });
});

describe('checkOverrideNames', () => {
  it('warns about override names no domains line produces, hinting at case', () => {
    const { actions } = parse('[default]', '[mail]', 'domains = mail.example.com Www.example.com nope.example.com');
    const { report, lines } = collect('actions.conf');
    checkOverrideNames(actions!, [{ line: 1, tokens: ['example.com', 'www', 'mail'], names: ['example.com', 'www.example.com', 'mail.example.com'] }], report);
    assert.deepEqual(lines(), [
      'actions.conf:3: warning: "Www.example.com" in [mail] is on no line of domains (domains has "www.example.com"; names match case-sensitively); it has no effect',
      'actions.conf:3: warning: "nope.example.com" in [mail] is on no line of domains; it has no effect',
    ]);
  });
});
