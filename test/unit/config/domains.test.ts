import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DomainLine, parseDomains } from '../../../src/config/domains.ts';
import { collect, text } from './support.ts';

function parse(input: string): { lines: DomainLine[]; diagnostics: string[] } {
  const { report, lines } = collect('domains');
  return { lines: parseDomains(input, report), diagnostics: lines() };
}

describe('parseDomains', () => {
  it('reads lematt\'s examples', () => {
    const { lines, diagnostics } = parse(text('# certs', 'mail.example.com', 'example.com www mail', '', 'other.net www.other.org api', 'localhost www', ''));
    // lematt's table lists mail.example.com both alone and on the example.com line.
    assert.deepEqual(diagnostics, ['domains:3: warning: "mail.example.com" is also on line 2; both certificates will hold it']);
    assert.deepEqual(lines, [
      { line: 2, tokens: ['mail.example.com'], names: ['mail.example.com'] },
      { line: 3, tokens: ['example.com', 'www', 'mail'], names: ['example.com', 'www.example.com', 'mail.example.com'] },
      { line: 5, tokens: ['other.net', 'www.other.org', 'api'], names: ['other.net', 'www.other.org', 'api.other.net'] },
      { line: 6, tokens: ['localhost', 'www'], names: ['localhost.localhost', 'www.localhost'] },
    ]);
  });

  const quiet: { desc: string; input: string; want: Pick<DomainLine, 'line' | 'names'>[] }[] = [
    { desc: 'lines are trimmed; tabs split tokens', input: '  example.com\twww  \n', want: [{ line: 1, names: ['example.com', 'www.example.com'] }] },
    { desc: 'an indented # line is a comment', input: text('   # old', 'a.example.com'), want: [{ line: 2, names: ['a.example.com'] }] },
    { desc: 'whitespace-only lines are skipped', input: text(' \t ', 'a.example.com'), want: [{ line: 2, names: ['a.example.com'] }] },
    { desc: 'CRLF and a BOM', input: '\uFEFFa.example.com\r\nb.example.com www\r\n', want: [{ line: 1, names: ['a.example.com'] }, { line: 2, names: ['b.example.com', 'www.b.example.com'] }] },
    { desc: 'a bare * expands like any dot-free token (parse.ts checks it has a [dns:*] zone)', input: 'example.net *', want: [{ line: 1, names: ['example.net', '*.example.net'] }] },
    { desc: 'exactly 100 tokens', input: ['example.com', ...[...Array(99)].map((_, i) => `h${i}`)].join(' '), want: [{ line: 1, names: ['example.com', ...[...Array(99)].map((_, i) => `h${i}.example.com`)] }] },
  ];
  for (const { desc, input, want } of quiet) {
    it(desc, () => {
      const { lines, diagnostics } = parse(input);
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(lines.map(({ line, names }) => ({ line, names })), want);
    });
  }

  const problems: { desc: string; input: string; want: string[] }[] = [
    { desc: 'inline comment', input: 'example.com www # main site', want: ['domains:1: warning: inline comment: lematt read these as names (# main site); certfleet ignores them'] },
    { desc: 'long inline comment', input: 'example.com #a b c d e f g', want: ['domains:1: warning: inline comment: lematt read these as names (#a b c d e …); certfleet ignores them'] },
    { desc: 'a single dot-free name', input: 'localhost', want: ['domains:1: error: "localhost": needs at least two labels (e.g. localhost.example.com)'] },
    { desc: 'a dot-free name left alone by an inline comment', input: 'intranet # x', want: [
      'domains:1: warning: inline comment: lematt read these as names (# x); certfleet ignores them',
      'domains:1: error: "intranet": needs at least two labels (e.g. intranet.example.com)',
    ] },
    { desc: 'over 100 tokens, real count', input: ['example.com', ...[...Array(100)].map((_, i) => `h${i}`)].join(' '), want: ['domains:1: error: 101 names on one line; a certificate holds at most 100'] },
    { desc: 'a # inside a token is not a comment', input: 'example.com#main', want: ['domains:1: error: "example.com#main": label "com#main" may hold only letters, digits and hyphens'] },
    { desc: 'every bad name of a line', input: 'example.com a_b -c', want: [
      'domains:1: error: "a_b.example.com": label "a_b" may hold only letters, digits and hyphens',
      'domains:1: error: "-c.example.com": label "-c" must not start or end with a hyphen',
    ] },
    { desc: 'a name twice on a line, any case', input: 'example.com www WWW.example.com www', want: ['domains:1: warning: "WWW.example.com" appears more than once on this line; it is requested once'] },
    { desc: 'a name on two lines', input: text('example.com www', 'www.example.com', 'WWW.EXAMPLE.COM'), want: [
      'domains:2: warning: "www.example.com" is also on line 1; both certificates will hold it',
      'domains:3: warning: "WWW.EXAMPLE.COM" is also on line 1; both certificates will hold it',
    ] },
    { desc: 'no names at all', input: text('# nothing yet', '', '   '), want: ['domains: error: no certificates: every line is blank or a comment'] },
    { desc: 'an empty file', input: '', want: ['domains: error: no certificates: every line is blank or a comment'] },
  ];
  for (const { desc, input, want } of problems) {
    it(`diagnoses ${desc}`, () => assert.deepEqual(parse(input).diagnostics, want));
  }

  it('keeps duplicates and spelling in names (file names depend on them)', () => {
    assert.deepEqual(parse('Example.com www WWW').lines[0]!.names, ['Example.com', 'www.Example.com', 'WWW.Example.com']);
  });
});
