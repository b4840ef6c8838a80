// Deploy actions end to end: the built binary against Pebble + nginx, with real commands
// (/bin/sh, rsync between directories, a prepare script that leaves a child running).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { procStat } from '../../src/process/process-group.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();

const rand = () => randomBytes(4).toString('hex');
const run = (conf: string, ...args: string[]) => runCertfleet(['--test', '--config', conf, ...args], { env: fx.env });
const lines = async (file: string) => (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
/** Alive and not a zombie (this container's PID 1 does not reap orphans). */
const running = (pid: number) => {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z';
};

test('sections run once each after all requests, in order, with placeholders, env vars and real rsync; prepare processes and their children are gone', async () => {
  const z = rand();
  const [a, single, other] = [`a${z}.example.com`, `single${z}.example.org`, `o${z}.example.net`];
  const conf = await makeConfDir(fx.servers, { domains: '' });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'actions.log');
  const dest = path.join(dir, 'remote');
  await fs.mkdir(path.join(dest, 'certs'), { recursive: true });
  await fs.mkdir(path.join(dest, 'keys'), { recursive: true });
  const prep = path.join(dir, 'prep.sh');
  // A prepare command that starts a child and records both pids (argv split, no shell: a script).
  await fs.writeFile(prep, `#!/bin/sh\nsleep 300 &\necho "$1 $2 $$ $! $CERTFLEET_DOMAIN $CERTFLEET_KEY_TYPE" >> ${path.join(dir, 'prep.log')}\nwait\n`, { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'domains'), `${a} www mail\n${single}\n${other} www.${other} api\n`);
  await fs.writeFile(
    path.join(dir, 'actions.conf'),
    `[default]
prepare: ["${prep} default DOMAIN"]
uploadCerts: ["rsync -a CERTS ${dest}/certs/", "echo UPCERT-DEFAULT CERTS >> ${log}"]
uploadKeys: ["rsync -a KEYS ${dest}/keys/"]
update: ["echo UPDATE-DEFAULT CN=[DOMAINS_CN] ALL=[DOMAINS_ALL] SECTION=$CERTFLEET_SECTION MODE=$CERTFLEET_MODE >> ${log}"]

[every]
update: ["echo UPDATE-EVERY CN=[DOMAINS_CN] >> ${log}"]

[override-mail]
domains: mail.${a} ${single}
update: ["echo UPDATE-MAIL CN=[DOMAINS_CN] >> ${log}", "printf '%%s\\\\n' \\"$CERTFLEET_CERTS\\" > ${path.join(dir, 'mail-certs.txt')}"]
`,
  );
  const res = await run(conf, '--parallel', '4', '--json');
  assert.equal(res.code, 0, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.deepEqual(summary.counts, { issued: 6, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });

  const got = await lines(log);
  const updates = got.filter((l) => l.startsWith('UPDATE-'));
  assert.deepEqual(updates.map((l) => l.split(' ')[0]), ['UPDATE-DEFAULT', 'UPDATE-MAIL', 'UPDATE-EVERY'], 'once per section, [every] last');
  assert.equal(updates[0], `UPDATE-DEFAULT CN=[${a} ${other}] ALL=[${[a, `mail.${a}`, `www.${a}`, other, `api.${other}`, `www.${other}`].sort().join(' ')}] SECTION=default MODE=test`);
  assert.equal(updates[1], `UPDATE-MAIL CN=[${[a, single].sort().join(' ')}]`);
  assert.equal(updates[2], `UPDATE-EVERY CN=[${[a, single, other].sort().join(' ')}]`);
  const globs = [a, `mail.${a}`, `www.${a}`, other, `api.${other}`, `www.${other}`].map((n) => `${dir}/test/cert/${n}*`).join(' ');
  const def = summary.deployments.find((d: { section: string }) => d.section === 'default');
  assert.equal(def.commands[1].command, `echo UPCERT-DEFAULT ${globs} >> ${log}`, 'CERTS: lematt globs, one per name');
  const upcert = got.find((l) => l.startsWith('UPCERT-DEFAULT'))!;
  assert.ok(upcert.includes(`${dir}/test/cert/www.${other}-cert-combined.rsa2048.test.pem`) && !upcert.includes('*'), 'sh expanded the globs');
  assert.deepEqual((await lines(path.join(dir, 'mail-certs.txt'))).sort(), [
    `${dir}/test/cert/${a}_mail.${a}_www.${a}-cert-combined.prime256v1.test.pem`,
    `${dir}/test/cert/${a}_mail.${a}_www.${a}-cert-combined.rsa2048.test.pem`,
    `${dir}/test/cert/${single}-cert-combined.prime256v1.test.pem`,
    `${dir}/test/cert/${single}-cert-combined.rsa2048.test.pem`,
  ]);
  const copied = await fs.readdir(path.join(dest, 'certs'));
  assert.ok(copied.includes(`www.${other}-cert-combined.rsa2048.test.pem`), copied.join(', '));
  assert.ok((await fs.readdir(path.join(dest, 'keys'))).includes(`${a}_mail.${a}_www.${a}-key.prime256v1.test.pem`));
  assert.ok(!copied.includes(`${single}-cert-combined.rsa2048.test.pem`), '[default] does not upload the override-only line');

  // prepare: once per name (its section's list; override-mail has none), per request; none left running.
  const preps = await lines(path.join(dir, 'prep.log'));
  assert.equal(preps.filter((l) => l.startsWith(`default ${a} `)).length, 2, 'RSA and EC request of the line');
  assert.equal(preps.filter((l) => l.startsWith(`default mail.${a}`)).length, 0, 'mail.* belongs to override-mail, which has no prepare');
  assert.ok(preps.some((l) => l.endsWith(` ${a} rsa`)) && preps.some((l) => l.endsWith(` ${a} ec`)), preps.join('\n'));
  for (const l of preps) {
    const [, , shPid, childPid] = l.split(' ');
    assert.ok(!running(Number(shPid)) && !running(Number(childPid)), `prepare ${l}: process or child still running`);
  }
  // Quiet afterwards: nothing due, nothing owed, nothing printed, nothing run again.
  const quiet = await run(conf, '--cron');
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout + quiet.stderr, '');
  assert.deepEqual(await lines(log), got);
});

test('a failing action is isolated, reported with its output, and retried on later runs until it succeeds; a failed issuance deploys nothing', async () => {
  const z = rand();
  const [good, bad, flaky] = [`g${z}.example.com`, `bad${z}.example.com`, `f${z}.example.com`];
  await fx.servers.setA(bad, ['127.0.0.9']);
  const conf = await makeConfDir(fx.servers, { domains: `${good}\n${bad}\n${flaky}\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'actions.log');
  const flag = path.join(dir, 'flag');
  await fs.writeFile(
    path.join(dir, 'actions.conf'),
    `[default]
update: ["echo DEFAULT [DOMAINS_ALL] >> ${log}"]

[flaky]
domains: ${flaky}
update: ["echo trying; test -e ${flag} || { echo 'remote host unreachable' >&2; exit 3; }", "echo FLAKY [DOMAINS_ALL] >> ${log}"]

[bad]
domains: ${bad}
update: ["echo BAD >> ${log}"]

[every]
update: ["echo EVERY [DOMAINS_CN] >> ${log}"]
`,
  );
  const first = await run(conf, '--json');
  assert.equal(first.code, 1, first.stderr);
  const s1 = JSON.parse(first.stdout);
  assert.equal(s1.counts.failed, 2);
  const flakyReport = s1.deployments.find((d: { section: string }) => d.section === 'flaky');
  assert.equal(flakyReport.ok, false);
  assert.equal(flakyReport.commands[0].exitCode, 3);
  assert.match(flakyReport.commands[0].output, /trying[\s\S]*remote host unreachable/);
  assert.equal(flakyReport.commands[1].status, 'skipped');
  assert.match(first.stderr, /remote host unreachable/, 'output shown on failure');
  assert.deepEqual(await lines(log), [`DEFAULT [${good}]`, `EVERY [${[good, flaky].sort().join(' ')}]`], 'other sections ran; the failed issuance deployed nothing');

  const second = await run(conf, '--json');
  assert.equal(second.code, 1);
  assert.deepEqual(JSON.parse(second.stdout).deployments.map((d: { section: string; ok: boolean }) => `${d.section}:${d.ok}`), ['flaky:false'], 'only the owed section is retried');

  await fs.writeFile(flag, '');
  const third = await run(conf, '--json');
  assert.equal(third.code, 1, 'the bad line is still failing (held by its back-off)');
  assert.equal(JSON.parse(third.stdout).counts.waiting, 2);
  assert.deepEqual(JSON.parse(third.stdout).deployments.map((d: { section: string; ok: boolean }) => `${d.section}:${d.ok}`), ['flaky:true']);
  assert.deepEqual((await lines(log)).slice(-1), [`FLAKY [${flaky}]`]);
  await fx.servers.clearA(bad);
  const before = await lines(log);
  // Fixed by hand: the operator retries at once instead of waiting for the back-off.
  const fourth = await run(conf, '--json', '--retry');
  assert.equal(fourth.code, 0, fourth.stderr);
  assert.deepEqual((await lines(log)).slice(before.length), ['BAD', `EVERY [${bad}]`], 'bad deploys once it is issued; flaky is not deployed twice');
});

test('a crash between issuance and deployment is retried by the next run', async () => {
  const z = rand();
  const name = `k${z}.example.com`;
  const conf = await makeConfDir(fx.servers, { domains: `${name}\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'actions.log');
  const once = path.join(dir, 'killed-once');
  // The first attempt kills certfleet itself, as a crash would: the command's shell runs under
  // certfleet's gate shell ($PPID), whose parent is certfleet.
  await fs.writeFile(
    path.join(dir, 'actions.conf'),
    `[default]\nupdate: ["test -e ${once} || { touch ${once}; kill -9 $(cut -d' ' -f4 /proc/$PPID/stat); sleep 5; }", "echo DEPLOYED [DOMAINS_CN] >> ${log}"]\n`,
  );
  const crashed = await run(conf);
  assert.equal(crashed.signal, 'SIGKILL', `${crashed.code} ${crashed.stderr}`);
  assert.deepEqual(await lines(log), []);
  const next = await run(conf, '--json');
  assert.equal(next.code, 0, next.stderr);
  const s = JSON.parse(next.stdout);
  assert.equal(s.counts.unchanged, 2, 'the certificates were kept');
  assert.deepEqual(s.deployments.map((d: { section: string; ok: boolean }) => `${d.section}:${d.ok}`), ['default:true']);
  assert.deepEqual(await lines(log), [`DEPLOYED [${name}]`]);
});

test('--dry-run shows requests, prepare and expanded commands without requesting, writing or running; plan names the sections', async () => {
  const z = rand();
  const [name, mail] = [`d${z}.example.com`, `m${z}.example.com`];
  const conf = await makeConfDir(fx.servers, { domains: `${name} www\n${mail}\n` });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'actions.log');
  await fs.writeFile(
    path.join(dir, 'actions.conf'),
    `[default]\nprepare: ["/bin/true DOMAIN"]\nuploadCerts: ["echo CERTS >> ${log}"]\n[mail]\ndomains: ${mail}\nupdate: ["echo DOMAINS_CN >> ${log}"]\n[every]\nupdate: ["true"]\n`,
  );
  const before = (await fs.readdir(dir)).sort();
  // A dead directory URL: a dry run must not contact the CA.
  const dry = await runCertfleet(['--test', '--config', conf, '--dry-run', '--directory', 'https://127.0.0.1:9/dir'], { env: fx.env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`would issue rsa ${name} www\\.${name}: no certificate yet`));
  assert.match(dry.stdout, new RegExp(`  prepare \\[default\\]: /bin/true www\\.${name}`));
  assert.ok(dry.stdout.includes(`  uploadCerts: echo ${dir}/test/cert/${name}* ${dir}/test/cert/www.${name}* >> ${log}`), dry.stdout);
  assert.ok(dry.stdout.includes(`would run [mail] for ${mail}\n  update: echo ${mail} >> ${log}`), dry.stdout);
  assert.deepEqual((await fs.readdir(dir)).sort(), before, 'nothing written');
  const plan = await runCertfleet(['plan', '--test', '--config', conf, '--json'], { env: fx.env });
  assert.equal(plan.code, 0, plan.stderr);
  const items = JSON.parse(plan.stdout);
  assert.deepEqual(items.map((i: { names: string[]; sections: string[] }) => `${i.names[0]}:${i.sections.join(',')}`), [
    `${name}:default,every`,
    `${name}:default,every`,
    `${mail}:mail,every`,
    `${mail}:mail,every`,
  ]);
});
