import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRenewal, type Observed, type RenewalPolicy } from '../../../src/plan/renewal.ts';
import type { Integrity } from '../../../src/store/observed.ts';

const DAY = 86_400_000;
const now = new Date('2027-01-01T00:00:00Z');
const want = ['example.com', 'www.example.com'];
const policy: RenewalPolicy = { reauthorizeDays: 30, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false };
const key = { state: 'ok' as const, spkiSha256: 'aa', matchesSpec: true, description: 'RSA 2048' };
const csr = { state: 'ok' as const, spkiSha256: 'aa', names: want };
const cert = { state: 'ok' as const, spkiSha256: 'aa', names: want, notBefore: new Date(now.getTime() - 10 * DAY), notAfter: new Date(now.getTime() + 80 * DAY), certId: null };
const sound: Integrity = { blocked: null, chain: null, links: [] };
const obs = (o: Partial<Observed>, integrity: Partial<Integrity> = {}): Observed => ({ key, csr, cert, integrity: { ...sound, ...integrity }, ...o });

test('the integrity rule comes before the dates: lost key, damaged chain, blocked path', () => {
  assert.equal(decideRenewal(want, obs({}), policy, now).action, 'skip', 'a sound, fresh certificate');
  assert.equal(decideRenewal(want, { key, csr, cert }, policy, now).action, 'skip', 'no integrity facts: nothing to say');

  const lost = decideRenewal(want, obs({ key: { state: 'missing' } }), policy, now);
  assert.deepEqual([lost.action, lost.newKey, lost.newCsr], ['renew', true, true]);
  assert.match(lost.reason, /key missing; a new key and certificate replace it/);

  const chain = decideRenewal(want, obs({}, { chain: 'no intermediate certificate after the leaf' }), policy, now);
  assert.deepEqual([chain.action, chain.newKey, chain.newCsr], ['renew', false, false], 'the sound key is kept');
  assert.equal(chain.reason, 'certificate chain damaged (no intermediate certificate after the leaf)');
  assert.equal(chain.notAfter?.getTime(), cert.notAfter.getTime());

  const chainBadKey = decideRenewal(want, obs({ key: { ...key, matchesSpec: false } }, { chain: 'x' }), policy, now);
  assert.equal(chainBadKey.newKey, true);
  assert.match(chainBadKey.reason, /chain damaged \(x\); key is RSA 2048, not what lematt.conf asks for/);

  const blocked = decideRenewal(want, obs({ key: { state: 'unreadable', error: 'is a directory' } }, { blocked: '/k is a directory where this line\'s key belongs: move it away' }), policy, now);
  assert.deepEqual([blocked.action, blocked.newKey], ['fail', false]);
  assert.match(blocked.reason, /move it away/);
  const blockedFirst = decideRenewal(want, obs({ key: { state: 'missing' }, cert: { state: 'missing' } }, { blocked: 'x' }), policy, now);
  assert.equal(blockedFirst.action, 'fail', 'even before a first issuance: nothing is requested');

  const links = decideRenewal(want, obs({}, { links: [{ path: '/l', target: 't', found: 'missing' }] }), policy, now);
  assert.equal(links.action, 'skip', 'links are repaired without the CA, not renewed');
  assert.equal(decideRenewal(want, obs({ key: { state: 'missing' }, cert: { state: 'missing' } }), policy, now).action, 'issue', 'a first issuance stays an issue');
});
