import { test } from 'node:test';
import assert from 'node:assert/strict';
import { challengePath, parseChallengePath } from '../../../src/server/challenge-path.ts';

const P = '/.well-known/acme-challenge/';
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

test('parseChallengePath accepts only base64url tokens directly under the prefix', () => {
  const cases: { desc: string; target: string; want: ReturnType<typeof parseChallengePath> }[] = [
    { desc: 'plain token', target: P + TOKEN, want: { token: TOKEN, query: '' } },
    { desc: 'query kept', target: `${P}${TOKEN}?x=1&y=%20`, want: { token: TOKEN, query: '?x=1&y=%20' } },
    { desc: 'empty query kept', target: `${P}${TOKEN}?`, want: { token: TOKEN, query: '?' } },
    { desc: 'one character', target: `${P}a`, want: { token: 'a', query: '' } },
    { desc: '256 characters', target: P + 'a'.repeat(256), want: { token: 'a'.repeat(256), query: '' } },
    { desc: '257 characters', target: P + 'a'.repeat(257), want: null },
    { desc: 'empty token', target: P, want: null },
    { desc: 'prefix without slash', target: '/.well-known/acme-challenge', want: null },
    { desc: 'leforward prefix match', target: '/.well-known/acme-challengeXYZ', want: null },
    { desc: 'traversal', target: `${P}../../etc/passwd`, want: null },
    { desc: 'encoded traversal', target: `${P}%2e%2e/%2e%2e/etc/passwd`, want: null },
    { desc: 'encoded slash', target: `${P}a%2Fb`, want: null },
    { desc: 'token with slash', target: `${P}abc/def`, want: null },
    { desc: 'padding', target: `${P}abc=`, want: null },
    { desc: 'base64 not url', target: `${P}ab+c`, want: null },
    { desc: 'dot', target: `${P}abc.def`, want: null },
    { desc: 'query with quote', target: `${P}abc?"x"`, want: null },
    { desc: 'query with non-ASCII', target: `${P}abc?\u00e9`, want: null },
    { desc: 'absolute form', target: `http://example.com${P}${TOKEN}`, want: null },
    { desc: 'root', target: '/', want: null },
    { desc: 'asterisk', target: '*', want: null },
    { desc: 'double slash', target: `/${P}${TOKEN}`, want: null },
  ];
  for (const { desc, target, want } of cases) assert.deepEqual(parseChallengePath(target), want, desc);
});

test('challengePath builds the path and refuses invalid tokens', () => {
  assert.equal(challengePath(TOKEN), P + TOKEN);
  assert.throws(() => challengePath('../x'), /^Error: challenge token "..\/x": not base64url$/);
});
