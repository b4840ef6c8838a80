import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainProblem } from '../../../src/crypto/chain.ts';
import { makeCa, makeLeaf, pemOf as pem } from '../../support/test-ca.ts';

test('chainProblem: a sound file, and each way a chain is damaged', async () => {
  const root = await makeCa('CN=root');
  const inter = await makeCa('CN=intermediate', root);
  const other = await makeCa('CN=intermediate', await makeCa('CN=other root'));
  const leaf = (await makeLeaf(inter, ['a.example.com'])).cert;
  const good = pem(leaf, inter.cert);
  const interPem = inter.cert.toString('pem');

  assert.equal(chainProblem(good), null, 'leaf + intermediate');
  assert.equal(chainProblem(pem(leaf, inter.cert, root.cert)), null, 'up to the root');
  assert.equal(chainProblem(good.replace(/\n/g, '\r\n') + '\n\n'), null, 'CRLF and blank lines are whitespace');

  const cases: [string, string, RegExp][] = [
    ['intermediate dropped', pem(leaf), /no intermediate/],
    ['intermediate truncated (no END line)', pem(leaf) + interPem.slice(0, interPem.length / 2), /certificate 2 is cut short/],
    ['intermediate truncated inside, END kept', pem(leaf) + interPem.slice(0, 200) + '\n-----END CERTIFICATE-----\n', /certificate 2 does not parse/],
    ['garbage after the chain', good + 'garbage\n', /text that is not a certificate after certificate 2/],
    ['a stray PEM block after the chain', good + '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /damaged PEM block after certificate 2/],
    ['garbage before the leaf', 'x' + good, /before the first certificate/],
    ['intermediate of another CA', pem(leaf, other.cert), /certificate 1 \(CN=a\.example\.com\) is not signed by the next one/],
    ['wrong order', pem(inter.cert, leaf), /certificate 1 \(CN=intermediate\) is not signed/],
    ['an empty file', '', /no PEM certificate/],
  ];
  for (const [desc, text, want] of cases) {
    const got = chainProblem(text);
    assert.ok(got && want.test(got), `${desc}: ${got}`);
  }
});
