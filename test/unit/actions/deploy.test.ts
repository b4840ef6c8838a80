import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { describeFailure, runDeployments, type CommandReport, type DeployLog, type SectionReport } from '../../../src/actions/deploy.ts';
import { DeployState } from '../../../src/actions/deploy-state.ts';
import { groupBySection, planDeployments } from '../../../src/plan/deployments.ts';
import type { ChangedCert } from '../../../src/plan/action-types.ts';
import { actionsFrom, tempDir } from './support.ts';

function recorder(): DeployLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), change: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

function cert(dir: string, cn: string): ChangedCert {
  return { names: [cn], keyType: 'ec', certPath: `${dir}/test/cert/${cn}-cert-combined.prime256v1.test.pem`, keyPath: `${dir}/test/key/${cn}-key.prime256v1.test.pem` };
}

const brief = (r: SectionReport) => [r.section, r.ok, r.commands.map((c) => `${c.kind}:${c.status}${c.timedOut ? ':timeout' : ''}`)];

describe('runDeployments', () => {
  it('a failing or timed-out command fails its section only; later sections still run', async () => {
    const dir = await tempDir();
    const log = path.join(dir, 'actions.log');
    const actions = actionsFrom(
      '[default]',
      `uploadCerts: ["echo up-default >> ${log}", "echo rsync: connection refused >&2; exit 3"]`,
      `uploadKeys: ["echo keys-default >> ${log}"]`,
      `update: ["echo update-default >> ${log}"]`,
      '[web]',
      'domains: www.b.test',
      'update: ["echo slow; sleep 30"]',
      '[every]',
      `update: ["echo every $CERTFLEET_CN >> ${log}"]`,
    );
    const changed = [cert(dir, 'a.test'), { ...cert(dir, 'www.b.test') }];
    const deployments = planDeployments(actions, groupBySection(actions, changed), { configDir: dir, mode: 'test' });
    const logger = recorder();
    const seen: string[] = [];
    const reports = await runDeployments(deployments, { log: logger, timeoutMs: 2_000, graceMs: 500, onResult: (r) => {
      seen.push(r.section);
      if (r.section === 'web') throw new Error('disk full');
    } });

    assert.deepEqual(reports.map(brief), [
      ['default', false, ['uploadCerts:ok', 'uploadCerts:failed', 'uploadKeys:skipped', 'update:skipped']],
      ['web', false, ['update:failed:timeout']],
      ['every', true, ['update:ok']],
    ]);
    assert.deepEqual(seen, ['default', 'web', 'every'], 'onResult after each section, and its error stops nothing');
    assert.equal(await readFile(log, 'utf8'), 'up-default\nevery a.test www.b.test\n');
    assert.deepEqual(reports[0]!.commands[1]!.output, 'rsync: connection refused\n');
    assert.deepEqual(reports[1]!.commands[0]!.output, 'slow\n');
    assert.deepEqual(reports[2]!.certPaths, changed.map((c) => c.certPath));

    const errors = logger.lines.filter((l) => l.startsWith('error: '));
    assert.equal(errors.length, 3);
    assert.match(errors[0]!, /^error: \[default\] uploadCerts \(actions.conf line 2\) failed: exit status 3 after \d+\.\d s: echo rsync: connection refused >&2; exit 3\n {2}\| rsync: connection refused$/);
    assert.match(errors[1]!, /^error: \[web\] update \(actions.conf line 7\) failed: timed out after 2\.\d s and was stopped: echo slow; sleep 30\n {2}\| slow$/);
    assert.equal(errors[2], 'error: [web]: could not record the deployment\'s outcome: disk full');
    assert.ok(logger.lines.includes('Executing [every] for a.test www.b.test'));
  });

  it('a section gone from actions.conf is reported and settles (nothing to run)', async () => {
    const actions = actionsFrom('[default]', 'update: ["true"]');
    const deployments = planDeployments(actions, [{ section: 'old', certs: [cert('/c', 'a.test')] }], { configDir: '/c', mode: 'test' });
    const logger = recorder();
    const [report] = await runDeployments(deployments, { log: logger });
    assert.deepEqual({ ok: report!.ok, commands: report!.commands, note: report!.note },
      { ok: true, commands: [], note: '[old] is no longer in actions.conf; its pending deployment is dropped' });
    assert.deepEqual(logger.lines, ['warning: [old] is no longer in actions.conf; its pending deployment is dropped (a.test)']);
  });

  it('with the deploy state: a failed deployment is retried by the next run until it succeeds, then never again', async () => {
    const dir = await tempDir();
    const stateDir = path.join(dir, 'test', '.certfleet');
    const gate = path.join(dir, 'remote-up');
    const log = path.join(dir, 'deployed.log');
    const actions = actionsFrom('[default]', `update: ["test -e ${gate} && echo $CERTFLEET_CN >> ${log}"]`);
    const ctx = { configDir: dir, mode: 'test' as const };
    const run = async (changed: ChangedCert[], now: Date) => {
      const state = await DeployState.load(stateDir);
      for (const c of changed) await state.record(groupBySection(actions, [c]), now); // right after each publish
      const deployments = planDeployments(actions, state.pending(), ctx);
      const reports = await runDeployments(deployments, {
        log: recorder(),
        onResult: (r) => state.settle({ section: r.section, ok: r.ok, certPaths: r.certPaths }, now),
      });
      return reports.map((r) => [r.section, r.ok, r.cns]);
    };
    assert.deepEqual(await run([cert(dir, 'a.test')], new Date('2026-03-01T00:00:00Z')), [['default', false, ['a.test']]]);
    await writeFile(gate, '');
    assert.deepEqual(await run([cert(dir, 'b.test')], new Date('2026-03-02T00:00:00Z')), [['default', true, ['a.test', 'b.test']]]);
    assert.deepEqual(await run([], new Date('2026-03-03T00:00:00Z')), [], 'nothing pending, nothing runs');
    assert.equal(await readFile(log, 'utf8'), 'a.test b.test\n');
    await access(path.join(stateDir, 'deploy.json'));
  });
});

describe('describeFailure', () => {
  const base: CommandReport = { kind: 'update', line: 4, command: 'reload', status: 'failed', exitCode: 1, signal: null, timedOut: false, output: '', durationMs: 1234 };
  const cases: { desc: string; change: Partial<CommandReport>; want: string }[] = [
    { desc: 'exit status, no output', change: {}, want: '[s] update (actions.conf line 4) failed: exit status 1 after 1.2 s: reload\n  (no output)' },
    { desc: 'signal', change: { exitCode: null, signal: 'SIGSEGV', output: 'a\nb\n' }, want: '[s] update (actions.conf line 4) failed: killed by SIGSEGV after 1.2 s: reload\n  | a\n  | b' },
    { desc: 'timeout', change: { exitCode: null, signal: 'SIGTERM', timedOut: true }, want: '[s] update (actions.conf line 4) failed: timed out after 1.2 s and was stopped: reload\n  (no output)' },
    { desc: 'cannot start', change: { exitCode: null, output: 'cannot start /bin/sh: EAGAIN\n' }, want: '[s] update (actions.conf line 4) failed: could not start: reload\n  | cannot start /bin/sh: EAGAIN' },
  ];
  for (const c of cases) it(c.desc, () => assert.equal(describeFailure('s', { ...base, ...c.change }), c.want));
});
