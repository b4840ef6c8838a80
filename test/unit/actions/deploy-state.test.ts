import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DeployState, mergePending, settlePending, type PendingDeployment } from '../../../src/actions/deploy-state.ts';
import type { ChangedCert } from '../../../src/plan/action-types.ts';
import { tempDir } from './support.ts';

const t0 = new Date('2026-03-01T03:17:00Z');
const t1 = new Date('2026-03-02T03:17:00Z');

function cert(cn: string, keyType: 'rsa' | 'ec' = 'rsa'): ChangedCert {
  const tag = keyType === 'rsa' ? 'rsa2048' : 'prime256v1';
  return { names: [cn], keyType, certPath: `/c/prod/cert/${cn}-cert-combined.${tag}.pem`, keyPath: `/c/prod/key/${cn}-key.${tag}.pem` };
}

const summary = (pending: PendingDeployment[]) => pending.map((p) => `${p.section}: ${p.certs.map((c) => `${c.names[0]}/${c.keyType}`).join(' ')} (${p.attempts})`);

describe('mergePending / settlePending (pure)', () => {
  it('merges by section and certificate path, first recorded first', () => {
    let pending = mergePending([], [{ section: 'default', certs: [cert('a.test')] }, { section: 'every', certs: [cert('a.test')] }], t0);
    pending = mergePending(pending, [{ section: 'web', certs: [cert('b.test')] }, { section: 'every', certs: [cert('b.test'), cert('a.test')] }], t1);
    assert.deepEqual(summary(pending), ['default: a.test/rsa (0)', 'every: a.test/rsa b.test/rsa (0)', 'web: b.test/rsa (0)']);
    assert.equal(pending[1]!.since, t0.toISOString(), 'an entry keeps its first time');
  });

  it('a failure keeps the entry and counts it; a success removes only what was deployed', () => {
    const pending = mergePending([], [{ section: 'default', certs: [cert('a.test'), cert('b.test')] }, { section: 'every', certs: [cert('a.test')] }], t0);
    const failed = settlePending(pending, { section: 'default', ok: false, certPaths: [cert('a.test').certPath] }, t1);
    assert.deepEqual(summary(failed), ['default: a.test/rsa b.test/rsa (1)', 'every: a.test/rsa (0)']);
    assert.equal(failed[0]!.lastFailure, t1.toISOString());
    const partly = settlePending(failed, { section: 'default', ok: true, certPaths: [cert('a.test').certPath] }, t1);
    assert.deepEqual(summary(partly), ['default: b.test/rsa (1)', 'every: a.test/rsa (0)'], 'b.test was recorded after the attempt was built');
    const done = settlePending(partly, { section: 'every', ok: true, certPaths: [cert('a.test').certPath] }, t1);
    assert.deepEqual(summary(done), ['default: b.test/rsa (1)']);
  });
});

describe('DeployState', () => {
  it('round trip: what one run records, the next run finds, until a success settles it', async () => {
    const stateDir = path.join(await tempDir(), 'prod', '.certfleet');
    const first = await DeployState.load(stateDir);
    assert.deepEqual(first.pending(), [], 'no file yet');
    // Run 1 publishes two certificates and records them before any action; its deploy of [web] fails.
    await first.record([{ section: 'default', certs: [cert('a.test')] }], t0);
    await first.record([{ section: 'web', certs: [cert('b.test', 'ec')] }], t0);
    await first.settle({ section: 'default', ok: true, certPaths: [cert('a.test').certPath] }, t0);
    await first.settle({ section: 'web', ok: false, certPaths: [cert('b.test', 'ec').certPath] }, t0);

    // Run 2 issues nothing, but [web] is still owed.
    const second = await DeployState.load(stateDir);
    assert.deepEqual(second.pending(), [
      { section: 'web', certs: [cert('b.test', 'ec')], since: t0.toISOString(), attempts: 1, lastFailure: t0.toISOString() },
    ]);
    await second.settle({ section: 'web', ok: true, certPaths: [cert('b.test', 'ec').certPath] }, t1);

    // Run 3: nothing is deployed twice.
    assert.deepEqual((await DeployState.load(stateDir)).pending(), []);
    assert.deepEqual(JSON.parse(await readFile(path.join(stateDir, 'deploy.json'), 'utf8')), { version: 1, pending: [] });
  });

  it('a crash between publishing and deploying is the same case: the record is already on disk', async () => {
    const stateDir = await tempDir();
    const state = await DeployState.load(stateDir);
    await state.record([{ section: 'default', certs: [cert('a.test')] }], t0);
    // (certfleet dies here, before any action ran)
    assert.deepEqual(summary((await DeployState.load(stateDir)).pending()), ['default: a.test/rsa (0)']);
  });

  it('records made at once (parallel issuance) are all kept, in call order', async () => {
    const stateDir = await tempDir();
    const state = await DeployState.load(stateDir);
    const names = Array.from({ length: 12 }, (_, i) => `n${i}.test`);
    await Promise.all(names.map((n) => state.record([{ section: 'default', certs: [cert(n)] }], t0)));
    const onDisk = (await DeployState.load(stateDir)).pending();
    assert.deepEqual(onDisk[0]!.certs.map((c) => c.names[0]), names);
  });

  it('a malformed file is set aside with a warning naming it and what was lost; the run goes on', async () => {
    const cases = [
      { desc: 'not JSON', text: '{"version": 1, "pend', want: /not valid JSON|Unterminated|Unexpected/ },
      { desc: 'other version', text: '{"version": 2, "pending": []}', want: /not a version 1 deploy state/ },
      { desc: 'wrong shape', text: '{"version": 1, "pending": {"a": 1}}', want: /"pending" must be an array/ },
      { desc: 'relative path', text: JSON.stringify({ version: 1, pending: [{ section: 'd', since: '', attempts: 0, lastFailure: null, certs: [{ ...cert('a.test'), certPath: 'x' }] }] }), want: /pending\[0\]\.certs\[0\]: needs absolute certPath/ },
      { desc: 'unsafe name', text: JSON.stringify({ version: 1, pending: [{ section: 'd', since: '', attempts: 0, lastFailure: null, certs: [{ ...cert('a.test'), names: ['$(id)'] }] }] }), want: /"\$\(id\)": not a host name/ },
    ];
    for (const c of cases) {
      const stateDir = await tempDir();
      const file = path.join(stateDir, 'deploy.json');
      await writeFile(file, c.text);
      // Without repair (plan, dry run): a warning, nothing renamed.
      const seen: string[] = [];
      assert.deepEqual((await DeployState.load(stateDir, { warn: (m) => seen.push(m) })).pending(), [], c.desc);
      assert.equal(await readFile(file, 'utf8'), c.text, c.desc);
      const warnings: string[] = [];
      const state = await DeployState.load(stateDir, { repair: true, warn: (m) => warnings.push(m), now: new Date('2026-01-02T03:04:05Z') });
      assert.equal(warnings.length, 1, c.desc);
      assert.ok(warnings[0]!.startsWith(`${file}: `), c.desc);
      assert.match(warnings[0]!, c.want, c.desc);
      assert.match(warnings[0]!, /kept as .*deploy\.json\.damaged-20260102T030405Z.*forgotten/, c.desc);
      assert.equal(await readFile(`${file}.damaged-20260102T030405Z`, 'utf8'), c.text, c.desc);
      assert.deepEqual(state.pending(), [], c.desc);
      await state.record([{ section: 'd', certs: [cert('a.test')] }], new Date());
      assert.equal((await DeployState.load(stateDir)).pending().length, 1, `${c.desc}: the next write starts afresh`);
    }
  });
});
