import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateBases, certPaths, identifiers, sortSans } from '../../../src/store/layout.ts';

const naming = { configDir: '/c', mode: 'prod' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };

test('base names match lematt byte for byte (lematt.md §3.3, §4)', () => {
  const cases = [
    { desc: 'single name', names: ['mail.example.com'], base: 'mail.example.com' },
    { desc: 'shorthand line', names: ['example.com', 'www.example.com', 'mail.example.com'], base: 'example.com_mail.example.com_www.example.com' },
    { desc: 'multi-zone line', names: ['other.net', 'www.other.org', 'api.other.net'], base: 'other.net_api.other.net_www.other.org' },
    { desc: 'CN repeated later appears twice', names: ['example.com', 'www.example.com', 'example.com'], base: 'example.com_example.com_www.example.com' },
    { desc: 'SAN duplicates collapse', names: ['a.example.com', 'b.example.com', 'b.example.com'], base: 'a.example.com_b.example.com' },
    { desc: 'deeper names sort after their parent', names: ['x.org', 'mail.hello.there.com', 'there.com'], base: 'x.org_there.com_mail.hello.there.com' },
  ];
  for (const c of cases) assert.equal(candidateBases(c.names)[0], c.base, c.desc);
});

test('tied sort keys get a stable order and every lematt permutation as a candidate (lematt.md §9 A7)', () => {
  const names = ['a.example.com', 'example.org', 'example.net'];
  assert.deepEqual(sortSans(names), ['example.net', 'example.org']);
  assert.deepEqual(sortSans(['a.example.com', 'example.net', 'example.org']), ['example.net', 'example.org'], 'input order does not matter');
  assert.deepEqual(candidateBases(names), ['a.example.com_example.net_example.org', 'a.example.com_example.org_example.net']);
  assert.equal(candidateBases(['a.b.c', 'x.io', 'x.de', 'x.fr', 'x.nl'], 100).length, 24, 'four tied names: 24 orders');
  assert.equal(candidateBases(['a.b.c', 'x.io', 'x.de', 'x.fr', 'x.nl', 'x.at'], 24).length, 24, 'capped');
});

test('paths: lematt file names, .test marker, per-name links including the CN', () => {
  const p = certPaths(['example.com', 'www.example.com', 'mail.example.com'], 'rsa', naming);
  assert.equal(p.key, '/c/prod/key/example.com_mail.example.com_www.example.com-key.rsa2048.pem');
  assert.equal(p.csr, '/c/prod/csr/example.com_mail.example.com_www.example.com-csr.rsa2048.csr');
  assert.equal(p.cert, '/c/prod/cert/example.com_mail.example.com_www.example.com-cert-combined.rsa2048.pem');
  assert.deepEqual(
    p.links.map((l) => `${l.path} -> ${l.target}`),
    [
      '/c/prod/key/example.com-key.rsa2048.pem -> example.com_mail.example.com_www.example.com-key.rsa2048.pem',
      '/c/prod/cert/example.com-cert-combined.rsa2048.pem -> example.com_mail.example.com_www.example.com-cert-combined.rsa2048.pem',
      '/c/prod/key/www.example.com-key.rsa2048.pem -> example.com_mail.example.com_www.example.com-key.rsa2048.pem',
      '/c/prod/cert/www.example.com-cert-combined.rsa2048.pem -> example.com_mail.example.com_www.example.com-cert-combined.rsa2048.pem',
      '/c/prod/key/mail.example.com-key.rsa2048.pem -> example.com_mail.example.com_www.example.com-key.rsa2048.pem',
      '/c/prod/cert/mail.example.com-cert-combined.rsa2048.pem -> example.com_mail.example.com_www.example.com-cert-combined.rsa2048.pem',
    ],
  );
  const t = certPaths(['single.example.org'], 'ec', { ...naming, mode: 'test' });
  assert.equal(t.key, '/c/test/key/single.example.org-key.prime256v1.test.pem');
  assert.equal(t.cert, '/c/test/cert/single.example.org-cert-combined.prime256v1.test.pem');
  assert.deepEqual(t.links, [], 'single-name lines get no links');
  assert.equal(certPaths(['example.net', '*.example.net'], 'ec', naming).base, 'example.net__.example.net', 'wildcard * becomes _');
});

test('identifiers are lowercased and deduplicated, CN first', () => {
  assert.deepEqual(identifiers(['Example.com', 'www.example.com', 'example.COM']), ['example.com', 'www.example.com']);
});
