// The store heals itself (issue 13): each test damages a working store in one way, then the first
// run repairs or renews it and says why, the second run is a no-op, and the store is complete.
// The built binary against Pebble (5% nonce rejection on), as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCertChain } from '../../src/crypto/cert.ts';
import { chainProblem } from '../../src/crypto/chain.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import { certPaths, identifiers, type CertPaths, type KeyType } from '../../src/store/layout.ts';
import { ownLinks } from '../../src/store/link-owners.ts';
import { makeConfDir, runCertfleet } from '../support/servers.ts';
import { useTestServers } from '../support/use-servers.ts';

const fx = useTestServers();
const rand = () => randomBytes(4).toString('hex');
const DEAD = ['--directory', 'https://127.0.0.1:9/dir'];
const KEY_TYPES: KeyType[] = ['rsa', 'ec'];

interface Store {
  conf: string;
  dir: string;
  /** Each domains line's names. */
  lines: string[][];
  paths: (line: number, kt: KeyType) => CertPaths;
  run: (...extra: string[]) => Promise<{ code: number | null; stdout: string; stderr: string; json: RunJson }>;
  plan: () => Promise<PlanJson[]>;
  deployed: () => Promise<string[]>;
}

interface ResultJson {
  names: string[];
  keyType: KeyType;
  status: string;
  reason: string;
  error: string | null;
  warnings: string[];
  repaired: string[];
}
interface RunJson {
  counts: Record<string, number>;
  results: ResultJson[];
  deployments: { section: string; ok: boolean }[];
}
interface PlanJson {
  names: string[];
  keyType: KeyType;
  action: string;
  reason: string;
  repairs: string[];
}

/** A conf dir whose lines are issued (first run, exit 0), with an update action that logs each deployment. */
async function workingStore(lines: string[][]): Promise<Store> {
  const conf = await makeConfDir(fx.servers, { domains: lines.map((l) => l.join(' ')).join('\n') });
  const dir = path.dirname(conf);
  const log = path.join(dir, 'deployed.log');
  await fs.writeFile(path.join(dir, 'actions.conf'), `[default]\nupdate = ["echo DOMAINS_CN >> ${log}"]\n`);
  const naming = { configDir: dir, mode: 'test' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
  // A name that is a line of its own keeps its files; no link replaces them (lematt.md §9 A6).
  const all = ownLinks(lines.flatMap((names) => KEY_TYPES.map((keyType) => ({ keyType, paths: certPaths(names, keyType, naming) }))));
  const store: Store = {
    conf,
    dir,
    lines,
    paths: (line, kt) => all[line * 2 + KEY_TYPES.indexOf(kt)],
    run: async (...extra) => {
      const res = await runCertfleet(['--test', '--config', conf, '--json', '--parallel', '4', ...extra], { env: fx.env, timeoutMs: 120_000 });
      return { ...res, json: JSON.parse(res.stdout || 'null') as RunJson };
    },
    plan: async () => {
      const res = await runCertfleet(['plan', '--test', '--config', conf, '--json'], { env: fx.env });
      assert.equal(res.code, 0, res.stderr);
      return JSON.parse(res.stdout) as PlanJson[];
    },
    deployed: async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
  const first = await store.run();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json.counts.issued, lines.length * 2, first.stderr);
  await assertComplete(store);
  await fs.rm(log, { force: true });
  return store;
}

/** Pairs match, chains parse and lead from the leaf, every link resolves to its own line's files. */
async function assertComplete(store: Store): Promise<void> {
  for (let i = 0; i < store.lines.length; i++) {
    for (const kt of KEY_TYPES) {
      const p = store.paths(i, kt);
      const pem = await fs.readFile(p.cert, 'utf8');
      const key = parsePrivateKey(await fs.readFile(p.key, 'utf8'));
      const cert = parseCertChain(pem);
      assert.equal(cert.spkiSha256, spkiSha256(key), `${p.cert} belongs to ${p.key}`);
      assert.deepEqual([...cert.names].sort(), [...identifiers(store.lines[i])].sort());
      assert.equal(chainProblem(pem), null, `${p.cert}: whole chain sound`);
      for (const l of p.links) {
        assert.equal(await fs.readlink(l.path), l.target, `${l.path} points to its line's file`);
        const own = l.target.includes('-key.') ? p.key : p.cert;
        assert.equal(await fs.readFile(l.path, 'utf8'), await fs.readFile(own, 'utf8'), `${l.path} resolves`);
      }
    }
  }
}

/** The second run: exit 0, nothing issued (a dead CA URL), nothing repaired or deployed, silent under --cron. */
async function assertNoop(store: Store): Promise<void> {
  const res = await store.run('--cron', ...DEAD);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '', 'nothing to say under --cron');
  assert.deepEqual(res.json.counts, { issued: 0, renewed: 0, unchanged: store.lines.length * 2, failed: 0, waiting: 0, deferred: 0 });
  assert.deepEqual(res.json.results.flatMap((r) => r.repaired), []);
  assert.deepEqual(res.json.deployments, []);
  const plan = await store.plan();
  assert.ok(plan.every((p) => p.action === 'skip' && p.repairs.length === 0), JSON.stringify(plan));
  await assertComplete(store);
}

function only(json: RunJson, keyType: KeyType): ResultJson {
  const changed = json.results.filter((r) => r.status !== 'unchanged' || r.repaired.length > 0);
  assert.equal(changed.length, 1, `exactly one certificate changed: ${JSON.stringify(changed)}`);
  assert.equal(changed[0].keyType, keyType);
  return changed[0];
}

function planFor(plan: PlanJson[], names: string[], keyType: KeyType): PlanJson {
  const item = plan.find((p) => p.keyType === keyType && p.names[0] === names[0]);
  assert.ok(item, `${names[0]} ${keyType} in the plan`);
  return item;
}

async function withStore(lines: string[][], fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await workingStore(lines);
  try {
    await fn(store);
  } finally {
    await fs.rm(store.dir, { recursive: true, force: true });
  }
}

/** A line of three names (so it has per-name links). */
const line3 = (z: string) => [`a${z}.example.com`, `www.a${z}.example.com`, `mail.a${z}.example.com`];

/** Damages one certificate's chain, then expects a renewal for `reason` and a quiet second run. */
async function chainDamage(damage: (pem: string, intermediate: string) => string, reason: RegExp): Promise<void> {
  await withStore([line3(rand())], async (s) => {
    const p = s.paths(0, 'ec');
    const pem = await fs.readFile(p.cert, 'utf8');
    const [leaf, intermediate] = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
    assert.ok(leaf && intermediate, 'Pebble sends leaf and intermediate');
    await fs.writeFile(p.cert, damage(leaf, intermediate));
    const planned = planFor(await s.plan(), s.lines[0], 'ec');
    assert.equal(planned.action, 'renew');
    assert.match(planned.reason, reason);
    const oldKey = await fs.readFile(p.key, 'utf8');
    const res = await s.run();
    assert.equal(res.code, 0, res.stderr);
    const r = only(res.json, 'ec');
    assert.equal(r.status, 'renewed');
    assert.match(r.reason, reason);
    assert.match(res.stderr, /Renewing .* \[ec\]: certificate chain damaged/);
    assert.equal(await fs.readFile(p.key, 'utf8'), oldKey, 'the sound key is kept');
    assert.deepEqual(await s.deployed(), [s.lines[0][0]], 'deployed once');
    await assertNoop(s);
  });
}

test('a deleted key: renewed with a new key, saying why', async () => {
  await withStore([line3(rand())], async (s) => {
    const p = s.paths(0, 'rsa');
    const oldCert = await fs.readFile(p.cert, 'utf8');
    await fs.rm(p.key);
    const planned = planFor(await s.plan(), s.lines[0], 'rsa');
    assert.deepEqual([planned.action, planned.reason], ['renew', 'key missing; a new key and certificate replace it']);
    const res = await s.run();
    assert.equal(res.code, 0, res.stderr);
    const r = only(res.json, 'rsa');
    assert.deepEqual([r.status, r.reason], ['renewed', 'key missing; a new key and certificate replace it']);
    assert.notEqual(await fs.readFile(p.cert, 'utf8'), oldCert);
    await assertNoop(s);
  });
});

test('a key link pointing nowhere: re-pointed without the CA, reported as a change, deployed', async () => {
  await withStore([line3(rand())], async (s) => {
    const p = s.paths(0, 'ec');
    const link = p.links.find((l) => l.path.includes('/key/www.'))!;
    await fs.rm(link.path);
    await fs.symlink('no-such-key.pem', link.path);
    const planned = planFor(await s.plan(), s.lines[0], 'ec');
    assert.equal(planned.action, 'skip');
    assert.deepEqual(planned.repairs, [`link ${link.path} points to no-such-key.pem; must point to ${link.target}`]);
    const text = await runCertfleet(['plan', '--test', '--config', s.conf], { env: fx.env });
    assert.match(text.stdout, /\n {7}repair: link .*www\..* points to no-such-key\.pem/);

    const res = await s.run(...DEAD); // no CA needed
    assert.equal(res.code, 0, res.stderr);
    const r = only(res.json, 'ec');
    assert.equal(r.status, 'unchanged');
    assert.deepEqual(r.repaired, [`repaired link ${link.path} → ${link.target} (pointed to no-such-key.pem)`]);
    assert.match(res.stderr, /repaired link .*www\..*-key\.prime256v1\.test\.pem/);
    assert.deepEqual(await s.deployed(), [s.lines[0][0]], 'the servers reload what the link now points to');
    await assertNoop(s);
  });
});

test("a cert link replaced by a stray file: the file is moved aside (kept), the link restored; a line's own file is never touched", async () => {
  const z = rand();
  // www.a… is also a line of its own: that path is its certificate, not line 1's link.
  await withStore([line3(z), [`www.a${z}.example.com`]], async (s) => {
    const p = s.paths(0, 'rsa');
    const link = p.links.find((l) => l.path.includes('/cert/mail.'))!;
    const own = s.paths(1, 'rsa').cert;
    const ownBefore = await fs.readFile(own, 'utf8');
    assert.ok(!p.links.some((l) => l.path === own), "that path is the single line's");
    await fs.rm(link.path);
    await fs.writeFile(link.path, 'a stray copy\n');
    const res = await s.run(...DEAD);
    assert.equal(res.code, 0, res.stderr);
    const r = only(res.json, 'rsa');
    assert.match(r.repaired[0], /^repaired link .*\/cert\/mail\..* → .* \(was a stray file, moved to .*\.certfleet\/displaced\//);
    assert.match(r.warnings[0], /moved .*mail\..* to .*: no domains line has it as its own file/);
    const displaced = path.join(s.dir, 'test/.certfleet/displaced');
    const [aside] = await fs.readdir(displaced);
    assert.equal(await fs.readFile(path.join(displaced, aside), 'utf8'), 'a stray copy\n', 'nothing lost');
    assert.equal(await fs.readFile(own, 'utf8'), ownBefore, "the single line's own certificate is untouched");
    assert.ok((await fs.lstat(own)).isFile());
    await assertNoop(s);
  });
});

test("a link pointing to another line's files: re-pointed to its own line's", async () => {
  const z = rand();
  await withStore([line3(z), [`b${z}.example.net`, `www.b${z}.example.net`]], async (s) => {
    // A settled store, whose links the facts cache vouches for (link-vouch.ts): damage still shows.
    const long = new Date(Date.now() - 60_000);
    for (const d of ['key', 'cert']) await fs.utimes(path.join(s.dir, 'test', d), long, long);
    assert.equal((await s.run('--cron', ...DEAD)).code, 0);
    assert.ok(Object.keys(JSON.parse(await fs.readFile(path.join(s.dir, 'test/.certfleet/facts.json'), 'utf8')).entries).includes('.links'), 'links vouched for');
    const link = s.paths(0, 'rsa').links.find((l) => l.path.includes('/cert/www.'))!;
    const other = path.basename(s.paths(1, 'rsa').cert);
    await fs.rm(link.path);
    await fs.symlink(other, link.path);
    assert.deepEqual(planFor(await s.plan(), s.lines[0], 'rsa').repairs, [`link ${link.path} points to ${other}; must point to ${link.target}`]);
    const dry = await runCertfleet(['--test', '--config', s.conf, '--dry-run'], { env: fx.env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(dry.stdout.includes(`would repair rsa ${s.lines[0].join(' ')}: link ${link.path} points to ${other}`), dry.stdout);
    // The text summary under --cron (what cron mails) names the repair.
    const res = await runCertfleet(['--test', '--config', s.conf, '--cron', ...DEAD], { env: fx.env });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.includes(`repaired rsa ${s.lines[0].join(' ')}: repaired link ${link.path} → ${link.target} (pointed to ${other})\n`), res.stdout);
    assert.match(res.stdout, /0 issued, 0 renewed, 4 unchanged, 0 failed/);
    await assertNoop(s);
  });
});

test('a truncated intermediate: renewed, saying why', () =>
  chainDamage((leaf, inter) => leaf + inter.slice(0, Math.floor(inter.length / 2)), /certificate chain damaged \(certificate 2 is cut short/));

test('a dropped intermediate: renewed, saying why', () => chainDamage((leaf) => leaf, /certificate chain damaged \(no intermediate certificate after the leaf\)/));

test('garbage appended after the chain: renewed, saying why', () =>
  chainDamage((leaf, inter) => leaf + inter + 'garbage\n', /certificate chain damaged \(text that is not a certificate after certificate 2\)/));

test('a facts cache of garbage, then one of wrong field types: discarded, the run goes on', async () => {
  await withStore([line3(rand())], async (s) => {
    const cache = path.join(s.dir, 'test/.certfleet/facts.json');
    const good = JSON.parse(await fs.readFile(cache, 'utf8'));
    await fs.writeFile(cache, '\u0000{"version": garbage');
    const res = await s.run(...DEAD);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /facts cache .*facts\.json discarded \(not JSON\)/);
    assert.equal(res.json.counts.unchanged, 2);
    assert.equal(JSON.parse(await fs.readFile(cache, 'utf8')).version, good.version, 'rewritten');
    await assertNoop(s);

    for (const e of Object.values(good.entries) as { facts: Record<string, unknown> }[]) {
      e.facts.names = 42;
      e.facts.notAfter = { year: 2999 };
      e.facts.chain = 7;
      e.facts.bits = 'many';
    }
    await fs.writeFile(cache, JSON.stringify(good));
    const typed = await s.run(...DEAD);
    assert.equal(typed.code, 0, typed.stderr);
    assert.deepEqual(typed.json.counts, { issued: 0, renewed: 0, unchanged: 2, failed: 0, waiting: 0, deferred: 0 });
    good.entries = { 'cert/x.pem': { sig: 1, facts: null } };
    await fs.writeFile(cache, JSON.stringify(good));
    const shaped = await s.run(...DEAD);
    assert.equal(shaped.code, 0, shaped.stderr);
    assert.match(shaped.stderr, /discarded \(entry "cert\/x\.pem" has the wrong shape\)/);
    await assertNoop(s);
  });
});

test('a directory where a key should be: that certificate fails with what to do, nothing is requested; moved away, it heals', async () => {
  await withStore([line3(rand())], async (s) => {
    const p = s.paths(0, 'ec');
    await fs.rm(p.key);
    await fs.mkdir(p.key);
    await fs.writeFile(path.join(p.key, 'something'), 'x');
    const planned = planFor(await s.plan(), s.lines[0], 'ec');
    assert.equal(planned.action, 'fail');
    const text = await runCertfleet(['plan', '--test', '--config', s.conf], { env: fx.env });
    assert.ok(text.stdout.includes(`fail   ec  ${s.lines[0].join(' ')}: ${p.key} is a directory where this line's key belongs`), text.stdout);
    const res = await s.run(...DEAD); // a request would fail with a connection error instead
    assert.equal(res.code, 1, res.stderr);
    const r = only(res.json, 'ec');
    assert.equal(r.status, 'failed');
    assert.equal(r.error, `${p.key} is a directory where this line's key belongs: certfleet never removes it; move it away, then run again`);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.ok((await fs.stat(path.join(p.key, 'something'))).isFile(), 'left as it was');
    assert.equal((await s.run(...DEAD)).code, 1, 'and again until it is moved');

    await fs.rm(p.key, { recursive: true });
    const healed = await s.run();
    assert.equal(healed.code, 0, healed.stderr);
    assert.deepEqual([only(healed.json, 'ec').status, only(healed.json, 'ec').reason], ['renewed', 'key missing; a new key and certificate replace it']);
    await assertNoop(s);
  });
});
