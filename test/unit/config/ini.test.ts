import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSection, type IniDocument, parseIni, visibleEntries } from '../../../src/config/ini.ts';
import { interpolate, readValue } from '../../../src/config/interpolation.ts';
import { collect, text } from './support.ts';

/** Sections as { name: { key: raw } }, `[DEFAULT]` included when it has entries. */
function shape(doc: IniDocument): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (doc.defaults.size > 0) out.DEFAULT = Object.fromEntries([...doc.defaults].map(([k, e]) => [k, e.raw]));
  for (const section of doc.sections) out[section.name] = Object.fromEntries([...section.entries].map(([k, e]) => [k, e.raw]));
  return out;
}

describe('parseIni: the configparser dialect', () => {
  // Each expectation was checked against Python 3.11 configparser.ConfigParser().
  const cases: { desc: string; input: string; want: Record<string, Record<string, string>> }[] = [
    { desc: '= and : delimiters, spaces around them', input: text('[a]', 'x = 1', 'y:2', 'z :  three words'), want: { a: { x: '1', y: '2', z: 'three words' } } },
    { desc: 'the first delimiter splits', input: text('[a]', 'k:=1', 'u = http://h:80/'), want: { a: { k: '=1', u: 'http://h:80/' } } },
    { desc: 'keys are lowercased, spaces inside kept', input: text('[a]', 'reauthorizeDays = 1', 'Key Two: w'), want: { a: { reauthorizedays: '1', 'key two': 'w' } } },
    { desc: 'section names are case-sensitive', input: text('[config]', 'a=1', '[Config]', 'a=2'), want: { config: { a: '1' }, Config: { a: '2' } } },
    { desc: 'section name keeps its blanks', input: text('[ a ]', 'k=1', '[a]', 'k=2'), want: { ' a ': { k: '1' }, a: { k: '2' } } },
    { desc: 'text after the header is ignored (configparser SECTCRE.match)', input: text('[a] junk', 'k=1'), want: { a: { k: '1' } } },
    { desc: 'full-line # and ; comments, indented too', input: text('# c', '[a]', '; c', '   # c', 'k = 1'), want: { a: { k: '1' } } },
    { desc: 'no inline comments', input: text('[a]', 'k = ["x"] # note', 'j = 1 ; two'), want: { a: { k: '["x"] # note', j: '1 ; two' } } },
    { desc: 'indented lines continue the value', input: text('[a]', 'k = ["x",', '    "y"]', 'j = 1'), want: { a: { k: '["x",\n"y"]', j: '1' } } },
    { desc: 'blank lines inside a value are kept, trailing ones dropped', input: text('[a]', 'k = 1', '', '  2', '', '', 'j = 3'), want: { a: { k: '1\n\n2', j: '3' } } },
    { desc: 'a comment inside a value is skipped', input: text('[a]', 'k = 1', '  # not part', '  2'), want: { a: { k: '1\n2' } } },
    { desc: 'tab indentation continues too', input: text('[a]', 'k = 1', '\t2'), want: { a: { k: '1\n2' } } },
    { desc: 'empty first line of a value is kept', input: text('[a]', 'k =', '  x'), want: { a: { k: '\nx' } } },
    { desc: 'an indented key after a header is a key', input: text('[a]', '  k = 1', '  j = 2', '    cont'), want: { a: { k: '1', j: '2\ncont' } } },
    { desc: 'empty value', input: text('[a]', 'k ='), want: { a: { k: '' } } },
    { desc: 'CRLF line ends', input: '[a]\r\nk = 1\r\n  2\r\n\r\nj: 3\r\n', want: { a: { k: '1\n2', j: '3' } } },
    { desc: 'CR line ends', input: '[a]\rk = 1\r', want: { a: { k: '1' } } },
    { desc: 'a UTF-8 BOM is ignored', input: '\uFEFF[a]\nk = 1\n', want: { a: { k: '1' } } },
    { desc: '[DEFAULT] may appear twice', input: text('[DEFAULT]', 'x=1', '[a]', 'k=1', '[DEFAULT]', 'y=2'), want: { DEFAULT: { x: '1', y: '2' }, a: { k: '1' } } },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const { report, lines } = collect();
      assert.deepEqual(shape(parseIni(input, report)), want);
      assert.deepEqual(lines(), []);
    });
  }

  it('keeps the key line, each segment line and the raw spelling', () => {
    const { report } = collect();
    const doc = parseIni(text('[a]', '', 'Update = [', '   "x",', '', '   "y"]', ''), report);
    const entry = findSection(doc, 'a')!.entries.get('update')!;
    assert.deepEqual({ rawKey: entry.rawKey, line: entry.line, lines: entry.lines, section: entry.section },
      { rawKey: 'Update', line: 3, lines: [3, 4, 5, 6], section: 'a' });
  });

  const errors: { desc: string; input: string; want: string[] }[] = [
    { desc: 'duplicate section names both lines', input: text('[a]', 'k=1', '[a]', 'j=2'), want: ['f:3: error: duplicate section [a]: first defined on line 1'] },
    { desc: 'duplicate key, any case', input: text('[a]', 'Key=1', 'key = 2'), want: ['f:3: error: duplicate key "key" in [a]: first set on line 2'] },
    { desc: 'duplicate key across two [DEFAULT] headers', input: text('[DEFAULT]', 'x=1', '[DEFAULT]', 'x=2'), want: ['f:4: error: duplicate key "x" in [DEFAULT]: first set on line 2'] },
    { desc: 'key before any section, reported once', input: text('k = 1', 'j = 2', '[a]'), want: ['f:1: error: "k = 1" comes before any [section] header'] },
    { desc: 'a line that is neither', input: text('[a]', 'k = 1', 'garbage'), want: ['f:3: error: cannot parse "garbage": expected [section], key = value, key: value, or a # comment'] },
    { desc: 'a delimiter without a key', input: text('[a]', '= 1'), want: ['f:2: error: "= 1" has no key before the delimiter'] },
    { desc: 'every problem, not only the first', input: text('x', '[a]', 'k=1', 'k=2', 'bad', '[a]'), want: [
      'f:1: error: "x" comes before any [section] header',
      'f:4: error: duplicate key "k" in [a]: first set on line 3',
      'f:5: error: cannot parse "bad": expected [section], key = value, key: value, or a # comment',
      'f:6: error: duplicate section [a]: first defined on line 2',
    ] },
  ];
  for (const { desc, input, want } of errors) {
    it(`error: ${desc}`, () => {
      const { report, lines } = collect();
      parseIni(input, report);
      assert.deepEqual(lines(), want);
    });
  }

  it('a dropped duplicate keeps its continuation lines and the first value', () => {
    const { report } = collect();
    const doc = parseIni(text('[a]', 'k = 1', 'k = 2', '  3', 'j = 4'), report);
    assert.deepEqual(shape(doc), { a: { k: '1', j: '4' } });
  });

  it('visibleEntries adds [DEFAULT] entries the section does not override', () => {
    const { report } = collect();
    const doc = parseIni(text('[DEFAULT]', 'x = d', 'y = d', '[a]', 'y = a'), report);
    const entries = visibleEntries(doc, findSection(doc, 'a')!).map((e) => `${e.key}=${e.raw}@${e.section}`);
    assert.deepEqual(entries, ['y=a@a', 'x=d@DEFAULT']);
  });
});

describe('interpolate: BasicInterpolation', () => {
  const doc = text(
    '[DEFAULT]', 'base = /srv', 'who = default',
    '[a]', 'who = a', 'pct = 50%%', 'own = %(who)s', 'inherited = %(BASE)s/x', 'nested = %(pct)s!',
    'escaped = %%(who)s', 'bare = date +%Y', 'broken = %(who', 'unknown = %(nope)s', 'loop = %(loop)s',
    'pctd = %d', 'multi = a', '  %Y',
  );
  const cases: { desc: string; key: string; want: string | { error: string } }[] = [
    { desc: '%% is a literal percent', key: 'pct', want: '50%' },
    { desc: '%(x)s reads the same section first', key: 'own', want: 'a' },
    { desc: '%(x)s falls back to [DEFAULT], name case-insensitive', key: 'inherited', want: '/srv/x' },
    { desc: 'a referenced value is resolved too', key: 'nested', want: '50%!' },
    { desc: '%%(x)s stays literal', key: 'escaped', want: '%(who)s' },
    { desc: 'bare %', key: 'bare', want: { error: 'bare: a literal "%" must be written "%%" (found "%Y")' } },
    { desc: 'bare % in a continuation line', key: 'multi', want: { error: 'multi: a literal "%" must be written "%%" (found "%Y")' } },
    { desc: 'bare % before a letter', key: 'pctd', want: { error: 'pctd: a literal "%" must be written "%%" (found "%d")' } },
    { desc: 'unterminated reference', key: 'broken', want: { error: 'broken: bad reference "%(who": write %(name)s, or %% for a literal percent sign' } },
    { desc: 'unknown reference', key: 'unknown', want: { error: 'unknown: %(nope)s refers to a key that is not in [a] or [DEFAULT]' } },
    { desc: 'a loop stops at depth 10', key: 'loop', want: { error: 'loop: references nest deeper than 10 levels (a loop?)' } },
  ];
  const { report } = collect();
  const parsed = parseIni(doc, report);
  const section = findSection(parsed, 'a')!;
  for (const { desc, key, want } of cases) {
    it(desc, () => {
      const result = interpolate(parsed, section, section.entries.get(key)!);
      assert.deepEqual(result, typeof want === 'string' ? { ok: true, value: want } : { ok: false, message: want.error });
    });
  }

  it('[DEFAULT] read as itself sees only [DEFAULT]', () => {
    const { report: r } = collect();
    const d = parseIni(text('[DEFAULT]', 'x = %(y)s', '[a]', 'y = 1'), r);
    assert.deepEqual(interpolate(d, null, d.defaults.get('x')!), { ok: false, message: 'x: %(y)s refers to a key that is not in [DEFAULT]' });
  });

  it('readValue reports the problem on the line of the key', () => {
    const { report: r, lines } = collect();
    const d = parseIni(text('[a]', '', 'update = ["date +%s"]'), r);
    const a = findSection(d, 'a')!;
    assert.equal(readValue(d, a, a.entries.get('update')!, r), null);
    assert.deepEqual(lines(), ['f:3: error: update: a literal "%" must be written "%%" (found "%s"]")']);
  });
});
