import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRenewal, type Observed, type RenewalPolicy } from '../../../src/plan/renewal.ts';

const DAY = 86_400_000;
const now = new Date('2027-01-01T00:00:00Z');
const want = ['example.com', 'www.example.com'];
const policy: RenewalPolicy = { reauthorizeDays: 30, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false };
const key = { state: 'ok' as const, spkiSha256: 'aa', matchesSpec: true, description: 'RSA 2048' };
const csr = { state: 'ok' as const, spkiSha256: 'aa', names: want };
/** A certificate issued `ageDays` ago with a `lifeDays` lifetime. */
const cert = (ageDays: number, lifeDays = 90, extra: Partial<{ names: string[]; spkiSha256: string }> = {}) => ({
  state: 'ok' as const,
  spkiSha256: 'aa',
  names: want,
  certId: 'A.1' as string | null,
  notBefore: new Date(now.getTime() - ageDays * DAY),
  notAfter: new Date(now.getTime() + (lifeDays - ageDays) * DAY),
  ...extra,
});
const obs = (o: Partial<Observed>): Observed => ({ key, csr, cert: cert(10), ...o });

test('renewal decisions (fixed dates)', () => {
  const cases: { desc: string; o: Observed; p?: Partial<RenewalPolicy>; action: string; newKey?: boolean; newCsr?: boolean; reason?: RegExp; warn?: boolean }[] = [
    { desc: 'nothing on disk', o: { key: { state: 'missing' }, csr: { state: 'missing' }, cert: { state: 'missing' } }, action: 'issue', newKey: true, newCsr: true },
    { desc: 'key kept, cert missing', o: obs({ cert: { state: 'missing' } }), action: 'issue', newKey: false, newCsr: false },
    { desc: 'fresh 90-day cert', o: obs({ cert: cert(10) }), action: 'skip' },
    { desc: 'inside reauthorizeDays', o: obs({ cert: cert(61) }), action: 'renew', newKey: false, newCsr: false, reason: /inside reauthorizeDays/ },
    { desc: 'just outside the window', o: obs({ cert: cert(59) }), action: 'skip' },
    { desc: 'expired', o: obs({ cert: cert(91) }), action: 'renew', reason: /expired/ },
    { desc: 'unreadable cert', o: obs({ cert: { state: 'unreadable', error: 'bad PEM' } }), action: 'renew', reason: /unreadable/ },
    { desc: 'names changed', o: obs({ cert: cert(1, 90, { names: ['example.com'] }), csr: { state: 'ok', spkiSha256: 'aa', names: ['example.com'] } }), action: 'renew', newCsr: true, reason: /\+www\.example\.com/ },
    { desc: 'cert for another key', o: obs({ cert: cert(1, 90, { spkiSha256: 'bb' }) }), action: 'renew', reason: /does not belong/ },
    { desc: 'CSR for another key gets a new CSR (lematt §9 A9)', o: obs({ cert: cert(70), csr: { state: 'ok', spkiSha256: 'bb', names: want } }), action: 'renew', newKey: false, newCsr: true },
    { desc: 'key of the wrong size', o: obs({ key: { ...key, matchesSpec: false } }), action: 'renew', newKey: true, reason: /not what lematt.conf asks/ },
    { desc: 'unreadable key', o: obs({ key: { state: 'unreadable', error: 'x' } }), action: 'renew', newKey: true },
    { desc: 'alwaysGenerateNewKeys when due', o: obs({ cert: cert(70) }), p: { alwaysGenerateNewKeys: true }, action: 'renew', newKey: true, newCsr: true },
    { desc: 'age rule from notBefore (not an assumed 90 days)', o: obs({ cert: cert(8, 45) }), p: { generateNewCertsAfterDays: 7 }, action: 'renew', reason: /older than generateNewCertsAfterDays/ },
    { desc: 'age rule not yet', o: obs({ cert: cert(6, 45) }), p: { generateNewCertsAfterDays: 7 }, action: 'skip' },
    { desc: '45-day cert with a 60-day window: no renewal in first third', o: obs({ cert: cert(5, 45) }), p: { reauthorizeDays: 60 }, action: 'skip', warn: true },
    { desc: '45-day cert with a 60-day window: renews after a third', o: obs({ cert: cert(16, 45) }), p: { reauthorizeDays: 60 }, action: 'renew', warn: true },
    { desc: '6-day cert with age rule 7: renews when a third is left', o: obs({ cert: cert(4.5, 6) }), p: { generateNewCertsAfterDays: 7 }, action: 'renew', reason: /half of its 6d lifetime/ },
    { desc: '6-day cert with age rule 7: not before', o: obs({ cert: cert(2.9, 6) }), p: { generateNewCertsAfterDays: 7 }, action: 'skip' },
    { desc: 'without ARI a 90-day cert renews when a third is left, even with reauthorizeDays 15', o: obs({ cert: cert(60.5) }), p: { reauthorizeDays: 15 }, action: 'renew', reason: /a third of its 90d lifetime/ },
    { desc: 'and not before', o: obs({ cert: cert(59.5) }), p: { reauthorizeDays: 15 }, action: 'skip', reason: /renews 2027-01-01T12:00:00.000Z \(its lifetime\)/ },
  ];
  for (const c of cases) {
    const d = decideRenewal(want, c.o, { ...policy, ...c.p }, now);
    assert.equal(d.action, c.action, `${c.desc}: action (${d.reason})`);
    if (c.newKey !== undefined) assert.equal(d.newKey, c.newKey, `${c.desc}: newKey`);
    if (c.newCsr !== undefined) assert.equal(d.newCsr, c.newCsr, `${c.desc}: newCsr`);
    assert.ok(c.action === 'skip' ? d.renewAt! > now : d.renewAt === null || d.renewAt <= now, `${c.desc}: renewAt ${d.renewAt?.toISOString()}`);
    if (c.reason) assert.match(d.reason, c.reason, c.desc);
    assert.equal(d.warnings.length > 0, Boolean(c.warn), `${c.desc}: warnings ${JSON.stringify(d.warnings)}`);
  }
});

test('a short-lived certificate never renews on every run, whatever the window', () => {
  // 160-hour certificate observed hourly through its life with lematt's sample reauthorizeDays 60.
  const life = 160 / 24;
  const renewedAt: number[] = [];
  for (let h = 0; h < 160; h++) {
    const d = decideRenewal(want, obs({ cert: cert(h / 24, life) }), { ...policy, reauthorizeDays: 60 }, now);
    if (d.action === 'renew') renewedAt.push(h);
  }
  assert.ok(renewedAt.length > 0 && renewedAt[0] >= Math.floor(160 / 3), `first renewal at hour ${renewedAt[0]}`);
});

test('with an ARI window the CA decides; the expiry and the emergency floor always count', () => {
  const H = 3_600_000;
  const at = (h: number) => new Date(now.getTime() + h * H);
  const win = (startH: number, endH: number, renewH: number, explanationURL: string | null = null) => ({ start: at(startH), end: at(endH), renewAt: at(renewH), explanationURL });
  const big = { ...policy, reauthorizeDays: 2000 };
  const cases: { desc: string; o: Observed; w: ReturnType<typeof win>; p?: RenewalPolicy; action: string; reason?: RegExp; renewAt?: Date }[] = [
    { desc: 'window ahead: skip until the chosen moment', o: obs({ cert: cert(30) }), w: win(24, 48, 30), action: 'skip', renewAt: at(30), reason: /CA's renewal window/ },
    { desc: 'chosen moment passed', o: obs({ cert: cert(30) }), w: win(-2, 20, -1), action: 'renew', reason: /in the CA's renewal window/ },
    { desc: 'window in the past (an incident): renew now, naming the explanation', o: obs({ cert: cert(30) }), w: win(-1, -0.5, -0.7, 'https://ca.example/incident'), action: 'renew', reason: /window ended .*see https:\/\/ca\.example\/incident/ },
    { desc: "lematt's large window does not renew on every run under ARI", o: obs({ cert: cert(30) }), w: win(24, 48, 30), p: big, action: 'skip' },
    { desc: 'window far off but under a twentieth of life left: emergency', o: obs({ cert: cert(86) }), w: win(2000, 2100, 2050), action: 'renew', reason: /twentieth/ },
    { desc: 'expired whatever the window', o: obs({ cert: cert(91) }), w: win(2000, 2100, 2050), action: 'renew', reason: /expired/ },
    { desc: 'files first: names changed', o: obs({ cert: cert(1, 90, { names: ['example.com'] }) }), w: win(2000, 2100, 2050), action: 'renew', reason: /names changed/ },
  ];
  for (const c of cases) {
    const d = decideRenewal(want, c.o, c.p ?? policy, now, c.w);
    assert.equal(d.action, c.action, `${c.desc}: action (${d.reason})`);
    if (c.reason) assert.match(d.reason, c.reason, c.desc);
    if (c.renewAt) assert.equal(d.renewAt?.toISOString(), c.renewAt.toISOString(), c.desc);
    assert.deepEqual(d.warnings, [], c.desc);
  }
});

test('an unreadable key is named once in the reason', () => {
  const d = decideRenewal(want, obs({ key: { state: 'unreadable', error: 'bad PEM' } }), policy, now);
  assert.equal(d.reason, 'key unreadable (bad PEM); a new key replaces it');
});
