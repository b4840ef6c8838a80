// Renewal in step with the CA, end to end with the built binary: the real Pebble (5% nonce
// rejection on) behind the ARI stand-in, which adds renewalInfo and meta.profiles (Debian's
// Pebble 2.4 has neither) and records every newOrder. Time passing between runs is simulated
// by moving a state record's next poll into the past, as an hour's wait would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { certIdOf, startAriStandIn, type AriStandIn } from '../support/ari-stand-in.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const H = 3_600_000;
const rand = () => randomBytes(4).toString('hex');

/** A conf dir whose [acme:test] points at the stand-in (extra lines go into that section). */
async function conf(standIn: AriStandIn, domains: string, acmeExtra = ''): Promise<string> {
  const file = await makeConfDir(fx.servers, { domains });
  const text = (await fs.readFile(file, 'utf8')).replace(/(\[acme:test\]\ndirectory: )\S+\n/, `$1${standIn.directoryUrl}\n${acmeExtra}`);
  await fs.writeFile(file, text);
  return file;
}

const run = (file: string, ...args: string[]) => runCertfleet(['--test', '--config', file, ...args], { env: fx.env });
const stateFile = (file: string) => path.join(path.dirname(file), 'test', '.certfleet', 'state.json');
const readState = async (file: string) => JSON.parse(await fs.readFile(stateFile(file), 'utf8')) as { certs: Record<string, { ari?: { certId: string; nextPoll: string; window: { start: string; end: string; renewAt: string } | null }; issued?: { certId: string }; failure?: { count: number; until: string } }> };
const certFile = async (file: string, name: string, tag: string) => path.join(path.dirname(file), 'test', 'cert', `${name}-cert-combined.${tag}.test.pem`);
const certIdIn = async (file: string) => certIdOf(await fs.readFile(file, 'utf8'));
const created = (s: AriStandIn) => s.orders.filter((o) => o.status === 201);

/** What an hour's wait does to the poll schedule: every next poll is now due. */
async function pollsDue(file: string): Promise<void> {
  const state = await readState(file);
  for (const r of Object.values(state.certs)) if (r.ari) r.ari.nextPoll = new Date(Date.now() - 1000).toISOString();
  await fs.writeFile(stateFile(file), JSON.stringify({ version: 1, ledger: { orders: [], certs: [] }, ...state }));
}

test('ARI: asked right after issuance; a future window renews nothing and is not asked again early; a past window renews at once, naming what it replaces', async (t) => {
  const standIn = await startAriStandIn(fx.servers);
  t.after(() => standIn.stop());
  const name = `ari${rand()}.example.com`;
  const file = await conf(standIn, name);

  const first = await run(file, '--json');
  assert.equal(first.code, 0, first.stderr);
  const rsa = await certFile(file, name, 'rsa2048');
  const ec = await certFile(file, name, 'prime256v1');
  const [rsaId, ecId] = [await certIdIn(rsa), await certIdIn(ec)];
  assert.deepEqual(created(standIn).map((o) => o.replaces ?? null), [null, null], 'first issuance replaces nothing');
  assert.deepEqual(standIn.polls.map((p) => p.certId).sort(), [rsaId, ecId].sort(), 'each new certificate is asked about once, right after issuance');
  const state = await readState(file);
  const rec = Object.values(state.certs).find((r) => r.ari?.certId === rsaId)!;
  assert.ok(rec.ari!.window && rec.ari!.window.renewAt >= rec.ari!.window.start && rec.ari!.window.renewAt < rec.ari!.window.end, 'a moment inside the window is kept');
  assert.ok(Date.parse(rec.ari!.nextPoll) - Date.now() > 5 * H, "the next poll waits for the answer's Retry-After (6 h)");

  const quiet = await run(file, '--cron');
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout + quiet.stderr, '', 'nothing due, no poll due: nothing printed');
  assert.equal(standIn.polls.length, 2, 'not asked again before Retry-After');
  assert.equal(created(standIn).length, 2);

  const now = Date.now();
  standIn.setWindow(rsaId, { start: new Date(now - 2 * H), end: new Date(now - H), explanationURL: 'https://ca.example/incident-42' });
  await pollsDue(file);
  const third = await run(file, '--json');
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(standIn.polls.slice(2, 4).map((p) => p.certId).sort(), [rsaId, ecId].sort(), 'both asked again once their Retry-After passed');
  const summary = JSON.parse(third.stdout);
  assert.deepEqual(summary.counts, { issued: 0, renewed: 1, unchanged: 1, failed: 0, waiting: 0, deferred: 0 });
  const renewed = summary.results.find((r: { status: string }) => r.status === 'renewed');
  assert.equal(renewed.keyType, 'rsa');
  assert.match(renewed.reason, /renewal window ended .*https:\/\/ca\.example\/incident-42/);
  assert.match(third.stderr, /incident-42/, 'the run names the explanationURL');
  assert.equal(created(standIn).at(-1)!.replaces, rsaId, 'the renewal names the certificate it replaces');
  const newId = await certIdIn(rsa);
  assert.notEqual(newId, rsaId);
  assert.deepEqual(standIn.polls.slice(4).map((p) => p.certId), [newId], 'and the new certificate right after issuance');
  assert.equal(await certIdIn(ec), ecId, 'the EC certificate, with a future window, is left alone');
});

test('replaces refused (alreadyReplaced): ordered once more without it', async (t) => {
  const standIn = await startAriStandIn(fx.servers);
  t.after(() => standIn.stop());
  const name = `rep${rand()}.example.com`;
  const file = await conf(standIn, name);
  assert.equal((await run(file)).code, 0);
  const id = await certIdIn(await certFile(file, name, 'prime256v1'));
  standIn.setWindow(id, { start: new Date(Date.now() - H), end: new Date(Date.now() + H), retryAfterSeconds: 3600 });
  standIn.rejectReplaces('alreadyReplaced');
  await pollsDue(file);
  const res = await run(file, '--json');
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).counts.renewed, 1);
  const tail = standIn.orders.filter((o) => o.status !== 400 || o.replaces === undefined).slice(-2);
  assert.deepEqual(tail.map((o) => [o.status, o.replaces ?? null]), [[409, id], [201, null]]);
  assert.match(res.stderr, /refused replaces=.*ordering without it/);
});

test('profiles: an offered one goes into newOrder; one the directory does not offer fails before any order, listing the offered ones', async (t) => {
  const standIn = await startAriStandIn(fx.servers, { profiles: { classic: '90 days', shortlived: '160 hours' } });
  t.after(() => standIn.stop());
  const bad = await conf(standIn, `p${rand()}.example.com`, 'profile: tlsserver\n');
  const refused = await run(bad);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /lematt\.conf:\d+: error: profile: "tlsserver" is not offered by .*; it offers: classic, shortlived/);
  assert.equal(standIn.orders.length, 0, 'no order was placed');
  const good = await conf(standIn, `p${rand()}.example.com`, 'profile: shortlived\n');
  const res = await run(good);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual([...new Set(created(standIn).map((o) => o.profile))], ['shortlived']);
});

test('failure memory: a failing validation is not retried inside its back-off (exit 1 meanwhile), is with --retry', async (t) => {
  const standIn = await startAriStandIn(fx.servers);
  t.after(() => standIn.stop());
  const bad = `bad${rand()}.example.com`;
  await fx.servers.setA(bad, ['127.0.0.9']); // nothing listens there: validation fails
  t.after(() => fx.servers.clearA(bad));
  const file = await conf(standIn, bad);
  const first = await run(file, '--json');
  assert.equal(first.code, 1);
  assert.equal(JSON.parse(first.stdout).counts.failed, 2);
  const orders = created(standIn).length;

  const second = await run(file, '--json');
  assert.equal(second.code, 1, 'still failing: exit 1 while held');
  const s2 = JSON.parse(second.stdout);
  assert.deepEqual(s2.counts, { issued: 0, renewed: 0, unchanged: 0, failed: 0, waiting: 2, deferred: 0 });
  assert.equal(s2.results[0].backoff.failures, 1);
  assert.ok(Date.parse(s2.results[0].backoff.until) - Date.now() > 0.9 * H, 'one hour after the first failure');
  assert.equal(created(standIn).length, orders, 'no order inside the back-off');
  const cron = await run(file, '--cron');
  assert.equal(cron.code, 1);
  assert.equal(cron.stdout, '', '--cron prints no attempts when none was made');

  const plan = await runCertfleet(['plan', '--test', '--config', file, '--json'], { env: fx.env });
  assert.equal(JSON.parse(plan.stdout)[0].backoff.failures, 1);

  const retried = await run(file, '--json', '--retry');
  assert.equal(retried.code, 1);
  assert.equal(JSON.parse(retried.stdout).counts.failed, 2, '--retry tries again');
  assert.ok(created(standIn).length > orders);
  const state = await readState(file);
  assert.deepEqual(Object.values(state.certs).map((r) => r.failure?.count), [2, 2], 'consecutive failures are counted');
});

test('--only and --force renew exactly what they select; an unknown --only name is a usage error', async (t) => {
  const standIn = await startAriStandIn(fx.servers);
  t.after(() => standIn.stop());
  const [a, b] = [`a${rand()}.example.com`, `b${rand()}.example.com`];
  const file = await conf(standIn, `${a} www.${a}\n${b}`);
  assert.equal((await run(file)).code, 0);
  const before = created(standIn).length;
  const forced = await run(file, '--json', '--force', '--only', `www.${a}`);
  assert.equal(forced.code, 0, forced.stderr);
  const s = JSON.parse(forced.stdout);
  assert.deepEqual(s.results.map((r: { names: string[]; status: string }) => `${r.names[0]}:${r.status}`), [`${a}:renewed`, `${a}:renewed`]);
  assert.equal(created(standIn).length, before + 2);
  assert.deepEqual(created(standIn).slice(-2).map((o) => o.identifiers.map((i) => i.value).sort().join(' ')), [`${a} www.${a}`, `${a} www.${a}`]);
  const unknown = await run(file, '--only', 'nowhere.example.com');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--only nowhere\.example\.com: no line of .*domains holds this name/);
});

test('an absent or failing ARI never fails a run, and --cron says nothing about it', async (t) => {
  const standIn = await startAriStandIn(fx.servers, { ari: false });
  t.after(() => standIn.stop());
  const file = await conf(standIn, `n${rand()}.example.com`);
  const res = await run(file, '--cron');
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stdout + res.stderr, /ARI|renewalInfo/);
  assert.equal(standIn.polls.length, 0, 'a directory without renewalInfo is not polled');
  standIn.setDirectory({ ari: true });
  standIn.setError('*', 500);
  await pollsDue(file);
  const failing = await run(file, '--cron');
  assert.equal(failing.code, 0, failing.stderr);
  assert.equal(failing.stdout + failing.stderr, '');
  assert.equal(standIn.polls.length, 2, 'asked once each; the failure is remembered');
  const plan = await runCertfleet(['plan', '--test', '--config', file, '--json'], { env: fx.env });
  const items = JSON.parse(plan.stdout) as { ari: { error: string; nextPoll: string }; renewAt: string; basis: string }[];
  assert.match(items[0].ari.error, /HTTP 500/);
  assert.ok(Date.parse(items[0].ari.nextPoll) - Date.now() > 5 * H, 'asked again 6 hours after an error');
  assert.equal(items[0].basis, 'lifetime', 'the local rules decide meanwhile');
});
