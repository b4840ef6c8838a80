import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkName, expandTokens } from '../../../src/config/names.ts';

describe('expandTokens: lematt shorthand', () => {
  const cases: { desc: string; tokens: string[]; want: string[] }[] = [
    { desc: 'one name alone is kept', tokens: ['mail.example.com'], want: ['mail.example.com'] },
    { desc: 'dot-free tokens get the first token appended', tokens: ['example.com', 'www', 'mail'], want: ['example.com', 'www.example.com', 'mail.example.com'] },
    { desc: 'tokens with a dot stay as written', tokens: ['other.net', 'www.other.org', 'api'], want: ['other.net', 'www.other.org', 'api.other.net'] },
    { desc: 'a dot-free first token expands too', tokens: ['localhost', 'www'], want: ['localhost.localhost', 'www.localhost'] },
    { desc: 'no multi-label shorthand', tokens: ['example.com', 'www.dev'], want: ['example.com', 'www.dev'] },
    { desc: 'spelling and duplicates kept', tokens: ['Example.com', 'WWW', 'www'], want: ['Example.com', 'WWW.Example.com', 'www.Example.com'] },
    { desc: 'a dot-free token alone is not expanded', tokens: ['localhost'], want: ['localhost'] },
  ];
  for (const { desc, tokens, want } of cases) it(desc, () => assert.deepEqual(expandTokens(tokens), want));
});

describe('checkName', () => {
  const valid = ['*.example.com', '*.a.b.example.com', 'example.com', 'a.b', 'xn--bcher-kva.de', 'a-b.example.com', 'Mail.Example.COM', '1.2.3.example', `${'a'.repeat(63)}.com`,
    [...Array(4)].map(() => 'a'.repeat(62)).join('.')];
  for (const name of valid) it(`accepts ${name.slice(0, 40)}`, () => assert.equal(checkName(name), null));

  const invalid: { desc: string; name: string; want: string }[] = [
    { desc: 'one label', name: 'localhost', want: '"localhost": needs at least two labels (e.g. localhost.example.com)' },
    { desc: 'trailing dot', name: 'example.com.', want: '"example.com.": remove the trailing dot' },
    { desc: 'empty label', name: 'a..com', want: '"a..com": empty label' },
    { desc: 'leading dot', name: '.com', want: '".com": empty label' },
    { desc: 'underscore', name: 'my_host.example.com', want: '"my_host.example.com": label "my_host" may hold only letters, digits and hyphens' },
    { desc: 'leading hyphen', name: '-a.example.com', want: '"-a.example.com": label "-a" must not start or end with a hyphen' },
    { desc: 'trailing hyphen', name: 'a-.example.com', want: '"a-.example.com": label "a-" must not start or end with a hyphen' },
    { desc: 'label over 63', name: `${'a'.repeat(64)}.com`, want: `"${'a'.repeat(64)}.com": label "aaaaaaaaaaaaaaaaaaaa…" has 64 characters; the limit is 63` },
    { desc: 'name over 253', name: [...Array(5)].map(() => 'a'.repeat(60)).join('.'), want: `"${'a'.repeat(30)}…": 304 characters; a name may have at most 253` },
    { desc: 'not ASCII', name: 'bücher.de', want: '"bücher.de": not an ASCII host name; write it as xn--bcher-kva.de' },
    { desc: 'a # from an inline comment', name: '#.example.com', want: '"#.example.com": label "#" may hold only letters, digits and hyphens' },
    { desc: 'wildcard over one label', name: '*.com', want: '"*.com": a wildcard needs at least two labels after "*." (CAs refuse *.com)' },
    { desc: 'a bare *', name: '*', want: '"*": needs at least two labels (e.g. *.example.com)' },
    { desc: 'wildcard not leftmost', name: 'a.*.example.com', want: '"a.*.example.com": label "*": a wildcard must be the whole first label, as in *.example.com' },
    { desc: 'partial wildcard', name: 'w*.example.com', want: '"w*.example.com": label "w*": a wildcard must be the whole first label, as in *.example.com' },
    { desc: 'bad name behind a wildcard', name: '*.ex_ample.com', want: '"*.ex_ample.com": label "ex_ample" may hold only letters, digits and hyphens' },
  ];
  for (const { desc, name, want } of invalid) it(`refuses ${desc}`, () => assert.equal(checkName(name), want));
});
