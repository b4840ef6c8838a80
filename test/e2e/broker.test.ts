// End to end: the fleet broker (`certfleet broker serve`, the built binary, HTTPS, `store: DIR`)
// proving names with DNS-01 in a real BIND 9 for a Pebble that resolves through it, with the ARI
// stand-in as its upstream. Devices are the built certfleet, Debian's certbot and lego, and
// acme-client where a test must send what no ordinary client sends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as acme from 'acme-client';
import { parseCertChain, verifyChain } from '../../src/crypto/cert.ts';
import { parsePrivateKey, spkiSha256 } from '../../src/crypto/keys.ts';
import type { TsigKey } from '../../src/dns/tsig.ts';
import { certIdOf, startAriStandIn, type AriStandIn } from '../support/ari-stand-in.ts';
import { startBind, type RunningBind } from '../support/bind.ts';
import { enroll, runCertbot, runLego, startBroker, writeBrokerConf, type RunningBroker } from '../support/broker.ts';
import { makeConfDir, runCertfleet } from '../support/certfleet.ts';
import { queryA } from '../support/dns-query.ts';
import { fetchText } from '../support/http.ts';
import { startTestServers, type TestServers } from '../support/servers.ts';

const z = randomBytes(3).toString('hex');
const ZONE = `fleet${z}.example.com`;
const tsig: TsigKey = { name: 'fleet-key.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

let bind: RunningBind;
let servers: TestServers;
let standIn: AriStandIn;
let dir: string;
let broker: RunningBroker;
let b: Awaited<ReturnType<typeof writeBrokerConf>>;
/** Pebble's CA (the broker's upstream, behind the stand-in) and the broker's own CA, one file. */
let bundle: string;
let env: Record<string, string>;

before(async () => {
  bind = await startBind({ tsig, zones: [{ name: ZONE }] });
  servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
  standIn = await startAriStandIn(servers);
  dir = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-broker-e2e-'));
  b = await writeBrokerConf({ dir, upstream: standIn.directoryUrl, bindPort: bind.port, tsig, zone: ZONE });
  broker = await startBroker({ conf: b.conf, directory: b.directory, env: { NODE_EXTRA_CA_CERTS: servers.caCertPath }, cwd: dir });
  bundle = path.join(dir, 'ca-bundle.pem');
  await fs.writeFile(bundle, (await fs.readFile(servers.caCertPath, 'utf8')) + (await fs.readFile(b.caCertPath!, 'utf8')));
  env = { NODE_EXTRA_CA_CERTS: bundle };
  acme.axios.defaults.httpsAgent = new Agent({ ca: await fs.readFile(bundle) });
});
after(async () => {
  await broker?.stop();
  await standIn?.stop();
  await servers?.stop();
  await bind?.stop();
  // KEEP=1 leaves the temp dir (client logs, stores) for a look after a failure.
  if (dir && !process.env.KEEP) await fs.rm(dir, { recursive: true, force: true });
});

/** What went wrong, for assertion messages. */
const logs = (): string => `--- broker:\n${broker.log().slice(-3000)}`;

/** Upstream newOrders the CA accepted so far. */
const issuedUpstream = (): number => standIn.orders.filter((o) => o.status === 201).length;

async function brokerStatus(conf = b.conf): Promise<{
  devices: { id: string; names: string[]; removed: boolean; certificates: number; notAfter: string | null }[];
  orders: Record<string, number>;
  queue: { order: string; device: string; renewal: boolean; notBefore: string | null }[];
  budget: { certsPerDomainPerWeek: { domains: Record<string, number> } };
}> {
  const r = await runCertfleet(['broker', 'status', '--config', conf, '--json'], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Asserts `certPem` holds `keyPem`'s key, names exactly `names` and chains to Pebble's root. */
async function assertCert(certPem: string, keyPem: string, names: string[], what: string): Promise<void> {
  const cert = parseCertChain(certPem);
  assert.equal(cert.spkiSha256, spkiSha256(parsePrivateKey(keyPem)), `${what}: the certificate holds the device's own key`);
  assert.deepEqual([...cert.names].sort(), [...names].sort(), `${what}: names`);
  assert.equal(verifyChain(certPem, await servers.rootPem()), null, `${what}: chains to Pebble's root`);
}

/** An acme-client device with its own account, registered with the EAB of `device`. */
async function acmeDevice(device: { eabKid: string; eabHmacKey: string }): Promise<acme.Client> {
  const client = new acme.Client({
    directoryUrl: b.directory,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    externalAccountBinding: { kid: device.eabKid, hmacKey: device.eabHmacKey },
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

/** POST-as-GET of `url` with `client`'s account, whatever the answer (acme-client's own request, untyped). */
async function postAsGet(client: acme.Client, url: string): Promise<{ status: number; data: { status?: string; type?: string }; headers: Record<string, string | undefined> }> {
  const api = (client as unknown as { api: { apiRequest(u: string, p: null, ok: number[]): Promise<{ status: number; data: { status?: string; type?: string }; headers: Record<string, string | undefined> }> } }).api;
  return api.apiRequest(url, null, []);
}

/** A CSR for `names` over a fresh key (EC P-256, or RSA of `rsaBits`). */
async function csrFor(names: string[], rsaBits?: number): Promise<Buffer> {
  const key = rsaBits
    ? generateKeyPairSync('rsa', { modulusLength: rsaBits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    : (await acme.crypto.createPrivateEcdsaKey()).toString();
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
  return csr;
}

let deviceConf = ''; // test 1's conf dir, renewed by test 5
let certbotPem = ''; // test 2's certificate: certbot 2.1 never asks renewalInfo about it, so the broker has no answer cached
const deviceNames = [`cf.${ZONE}`, `www.cf.${ZONE}`];

test('certfleet as a device gets its RSA and EC certificates through the broker', async () => {
  const e = await enroll(b.conf, 'cf', deviceNames, dir);
  deviceConf = await makeConfDir(servers, { domains: `cf.${ZONE} www` });
  const text = (await fs.readFile(deviceConf, 'utf8'))
    .replace(/\[acme:test\]\ndirectory: .*\n/, `[acme:test]\ndirectory: ${b.directory}\neabKid: ${e.eabKid}\neabHmacKey: ${e.eabHmacKey}\n`);
  await fs.writeFile(deviceConf, text);
  const res = await runCertfleet(['--test', '--config', deviceConf, '--json'], { env, timeoutMs: 90_000 });
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}\n${logs()}`);
  assert.equal(JSON.parse(res.stdout).counts.issued, 2, res.stdout);
  const confDir = path.dirname(deviceConf);
  for (const tag of ['rsa2048', 'prime256v1']) {
    const base = `cf.${ZONE}_www.cf.${ZONE}`;
    const pem = await fs.readFile(path.join(confDir, 'test/cert', `${base}-cert-combined.${tag}.test.pem`), 'utf8');
    const key = await fs.readFile(path.join(confDir, 'test/key', `${base}-key.${tag}.test.pem`), 'utf8');
    await assertCert(pem, key, deviceNames, tag);
  }
  assert.ok(!broker.log().includes(e.eabHmacKey), 'the EAB MAC key is never logged');
});

test('certbot with EAB gets a certificate for its own key; broker status shows it', async () => {
  const e = await enroll(b.conf, 'cb', [`cb.${ZONE}`], dir);
  const r = await runCertbot({ directory: b.directory, caCertPath: bundle, eab: e, names: [`cb.${ZONE}`], dir: path.join(dir, 'certbot') });
  assert.equal(r.code, 0, `${r.out}\n${logs()}`);
  certbotPem = await fs.readFile(r.certPath, 'utf8');
  await assertCert(certbotPem, await fs.readFile(r.keyPath, 'utf8'), [`cb.${ZONE}`], 'certbot');
  const raw = await runCertfleet(['broker', 'status', '--config', b.conf, '--json'], { cwd: dir, timeoutMs: 30_000 });
  assert.ok(!raw.stdout.includes(e.eabHmacKey), 'no EAB MAC key in the status');
  const device = (await brokerStatus()).devices.find((d) => d.id === 'cb');
  assert.equal(device?.certificates, 1, JSON.stringify(device));
  assert.ok(device.notAfter && Date.parse(device.notAfter) > Date.now());
});

test('lego with EAB gets a certificate for a name and its wildcard', async () => {
  const names = [`lg.${ZONE}`, `*.lg.${ZONE}`];
  const e = await enroll(b.conf, 'lg', names, dir);
  const r = await runLego({ directory: b.directory, caCertPath: bundle, eab: e, names, dir: path.join(dir, 'lego') });
  assert.equal(r.code, 0, `${r.out}\n${logs()}`);
  await assertCert(await fs.readFile(r.certPath, 'utf8'), await fs.readFile(r.keyPath, 'utf8'), names, 'lego');
});

test('refusals: no EAB, a removed device, a name outside the enrollment, CSRs with other names or a weak key, another account\'s order', async () => {
  const upstreamBefore = standIn.orders.length;
  const ref = await enroll(b.conf, 'ref', [`ref.${ZONE}`], dir);

  // No EAB: certbot stops before it asks for anything.
  const noEab = await runCertbot({ directory: b.directory, caCertPath: bundle, eab: null, names: [`ref.${ZONE}`], dir: path.join(dir, 'certbot-noeab') });
  assert.notEqual(noEab.code, 0, noEab.out);
  assert.match(noEab.out, /external account binding/i);

  // A removed device: its account was made while enrolled; certbot's next order is refused.
  const gone = await enroll(b.conf, 'gone', [`gone.${ZONE}`], dir);
  const goneDir = path.join(dir, 'certbot-gone');
  const reg = await runCertbot({ directory: b.directory, caCertPath: bundle, eab: gone, names: [], dir: goneDir, command: 'register' });
  assert.equal(reg.code, 0, reg.out);
  const removed = await runCertfleet(['broker', 'remove', '--config', b.conf, 'gone'], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(removed.code, 0, removed.stderr);
  const retry = await runCertbot({ directory: b.directory, caCertPath: bundle, eab: gone, names: [`gone.${ZONE}`], dir: goneDir });
  assert.notEqual(retry.code, 0, retry.out);
  assert.match(retry.out, /error:unauthorized.*no longer enrolled/, retry.out);
  const legoGone = await runLego({ directory: b.directory, caCertPath: bundle, eab: gone, names: [`gone.${ZONE}`], dir: path.join(dir, 'lego-gone') });
  assert.notEqual(legoGone.code, 0, legoGone.out);
  assert.match(legoGone.out, /new-account :: urn:ietf:params:acme:error:unauthorized :: externalAccountBinding refused/, legoGone.out);

  // A name outside the enrollment.
  const outside = await runLego({ directory: b.directory, caCertPath: bundle, eab: ref, names: [`ref.${ZONE}`, `other.${ZONE}`], dir: path.join(dir, 'lego-outside') });
  assert.notEqual(outside.code, 0, outside.out);
  assert.match(outside.out, new RegExp(`rejectedIdentifier :: this device is not enrolled for .*"other\\.${ZONE.replace(/\./g, '\\.')}`), outside.out);

  // A CSR whose names differ from the order's (acme-client: lego would order the CSR's names).
  const client = await acmeDevice(ref);
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: `ref.${ZONE}` }] });
  assert.equal(order.status, 'ready', JSON.stringify(order));
  await assert.rejects(client.finalizeOrder(order, await csrFor([`other.${ZONE}`])), /CSR names differ from the order's/);
  // A CSR with an RSA 1024 key.
  const weak = await client.createOrder({ identifiers: [{ type: 'dns', value: `ref.${ZONE}` }] });
  await assert.rejects(client.finalizeOrder(weak, await csrFor([`ref.${ZONE}`], 1024)), /CSR key is RSA 1024 bits/);
  // lego --csr with a CSR for names outside the enrollment.
  const csrFile = path.join(dir, 'other.csr');
  await fs.writeFile(csrFile, await csrFor([`other.${ZONE}`]));
  const legoCsr = await runLego({ directory: b.directory, caCertPath: bundle, eab: ref, names: [], csr: csrFile, dir: path.join(dir, 'lego-csr') });
  assert.notEqual(legoCsr.code, 0, legoCsr.out);
  assert.match(legoCsr.out, new RegExp(`rejectedIdentifier :: this device is not enrolled for "other\\.${ZONE.replace(/\./g, '\\.')}`), legoCsr.out);

  // Another account's order URL: POST-as-GET from a second device.
  const other = await acmeDevice(await enroll(b.conf, 'ref2', [`ref2.${ZONE}`], dir));
  const theirs = await postAsGet(other, order.url);
  assert.equal(theirs.status, 404, JSON.stringify(theirs.data));
  assert.equal((theirs.data as { identifiers?: unknown }).identifiers, undefined, 'nothing of the order shown');
  assert.match(String((theirs.data as { detail?: string }).detail), /no such order/);
  const mine = await postAsGet(client, order.url);
  assert.equal(mine.status, 200, 'the owner still reads it');

  assert.deepEqual(standIn.orders.slice(upstreamBefore), [], 'nothing was ordered upstream');
});

test('renewal: a forced certfleet renewal replaces upstream; renewalInfo is passed through', async () => {
  assert.ok(deviceConf, 'needs the certfleet device of the first test');
  const confDir = path.dirname(deviceConf);
  const base = `cf.${ZONE}_www.cf.${ZONE}`;
  const certFile = (tag: string) => path.join(confDir, 'test/cert', `${base}-cert-combined.${tag}.test.pem`);
  const oldIds = [certIdOf(await fs.readFile(certFile('rsa2048'), 'utf8')), certIdOf(await fs.readFile(certFile('prime256v1'), 'utf8'))].sort();
  const mark = standIn.orders.length;
  const counted = (await brokerStatus()).budget.certsPerDomainPerWeek.domains['example.com'];
  assert.ok(counted && counted >= 2, `the first certificates count against example.com: ${counted}`);
  const res = await runCertfleet(['--test', '--config', deviceConf, '--json', '--force'], { env, timeoutMs: 90_000 });
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}\n${logs()}`);
  assert.equal(JSON.parse(res.stdout).counts.renewed, 2, res.stdout);
  const upstream = standIn.orders.slice(mark).filter((o) => o.status === 201);
  assert.equal(upstream.length, 2, JSON.stringify(upstream));
  assert.deepEqual(upstream.map((o) => o.replaces).sort(), oldIds, 'each upstream order replaces the certificate it renews');
  // The status shows them as renewals: two more certificates for the device, none counted
  // against the registered domain's weekly limit (a replacing order is exempt).
  const after = await brokerStatus();
  const device = after.devices.find((d) => d.id === 'cf');
  assert.equal(device?.certificates, 4, JSON.stringify(device));
  assert.equal(after.budget.certsPerDomainPerWeek.domains['example.com'], counted, JSON.stringify(after.budget));

  // ARI passthrough: what the stand-in says for a CertID is what the broker answers. (The
  // broker caches an answer until its Retry-After: take a certificate nobody asked about yet.)
  assert.ok(certbotPem, 'needs the certificate of the certbot test');
  const certId = certIdOf(certbotPem);
  assert.ok(!standIn.polls.some((p) => p.certId === certId), 'not asked about before');
  const start = new Date(Date.now() + 3 * 86_400_000);
  const end = new Date(start.getTime() + 86_400_000);
  standIn.setWindow(certId, { start, end, retryAfterSeconds: 3600 });
  const answer = await fetchText(`${b.publicUrl}/acme/renewal-info/${certId}`, { ca: await fs.readFile(b.caCertPath!, 'utf8') });
  assert.equal(answer.status, 200, answer.body);
  const body = JSON.parse(answer.body) as { suggestedWindow: { start: string; end: string } };
  assert.equal(Date.parse(body.suggestedWindow.start), start.getTime());
  assert.equal(Date.parse(body.suggestedWindow.end), end.getTime());
  assert.equal(answer.headers['retry-after'], '3600');
});

test('certfleet address: A/AAAA records for the enrolled names; a wrong key or a removed device changes nothing', async () => {
  const names = [`ad.${ZONE}`, `www.ad.${ZONE}`, `*.ad.${ZONE}`];
  const e = await enroll(b.conf, 'ad', names, dir);
  const keyFile = path.join(dir, 'ad.key');
  await fs.writeFile(keyFile, `${e.eabHmacKey}\n`, { mode: 0o600 });
  const address = (file: string, ...addrs: string[]) =>
    runCertfleet(['address', '--broker', b.directory, '--eab-kid', e.eabKid, '--eab-hmac-key-file', file, ...addrs], { env, timeoutMs: 60_000 });
  const records = async () => {
    const out: Record<string, string[]> = {};
    for (const n of names.filter((x) => !x.startsWith('*.'))) {
      out[n] = [
        ...(await queryA('127.0.0.1', bind.port, n)).addresses,
        ...(await queryA('127.0.0.1', bind.port, n, 2000, 'AAAA')).addresses,
      ].sort();
    }
    return out;
  };
  const r = await address(keyFile, '10.1.1.4', 'fd00::4');
  assert.equal(r.code, 0, `${r.stderr}\n${logs()}`);
  const want = { [`ad.${ZONE}`]: ['10.1.1.4', 'fd00::4'], [`www.ad.${ZONE}`]: ['10.1.1.4', 'fd00::4'] };
  assert.deepEqual(await records(), want);

  const wrongFile = path.join(dir, 'wrong.key');
  await fs.writeFile(wrongFile, `${randomBytes(32).toString('base64url')}\n`);
  const wrong = await address(wrongFile, '10.9.9.9');
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /^certfleet: address: /m);
  assert.deepEqual(await records(), want, 'a wrong key changes nothing');

  const removed = await runCertfleet(['broker', 'remove', '--config', b.conf, 'ad'], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(removed.code, 0, removed.stderr);
  const refused = await address(keyFile, '10.9.9.9');
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^certfleet: address: /m);
  assert.deepEqual(await records(), want, 'a removed device changes nothing');
});

test('rate budget: with certsPerDomainPerWeek 2, two of four devices get certificates, the others wait', async () => {
  const dir2 = path.join(dir, 'second');
  const b2 = await writeBrokerConf({ dir: dir2, upstream: standIn.directoryUrl, bindPort: bind.port, tsig, zone: ZONE, extra: ['certsPerDomainPerWeek: 2'] });
  const broker2 = await startBroker({ conf: b2.conf, directory: b2.directory, env: { NODE_EXTRA_CA_CERTS: servers.caCertPath }, cwd: dir2, name: 'broker2' });
  try {
    const agent = new Agent({ ca: Buffer.concat([await fs.readFile(servers.caCertPath), await fs.readFile(b2.caCertPath!)]) });
    acme.axios.defaults.httpsAgent = agent;
    const mark = standIn.orders.length;
    const devices = await Promise.all([1, 2, 3, 4].map(async (i) => {
      const e = await enroll(b2.conf, `rb${i}`, [`rb${i}.${ZONE}`], dir2);
      const client = new acme.Client({
        directoryUrl: b2.directory,
        accountKey: await acme.crypto.createPrivateEcdsaKey(),
        externalAccountBinding: { kid: e.eabKid, hmacKey: e.eabHmacKey },
      });
      await client.createAccount({ termsOfServiceAgreed: true });
      const order = await client.createOrder({ identifiers: [{ type: 'dns', value: `rb${i}.${ZONE}` }] });
      await client.finalizeOrder(order, await csrFor([`rb${i}.${ZONE}`]));
      return { client, order, device: `rb${i}` };
    }));
    const deadline = Date.now() + 60_000;
    let views: { status: number; data: { status?: string }; retryAfter: number }[] = [];
    for (;;) {
      views = await Promise.all(devices.map(async (d) => {
        const r = await postAsGet(d.client, d.order.url);
        return { status: r.status, data: r.data, retryAfter: Number(r.headers['retry-after'] ?? 0) };
      }));
      if (views.filter((v) => v.data.status === 'valid').length >= 2 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Let a (wrong) third issuance show itself.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    views = await Promise.all(devices.map(async (d) => {
      const r = await postAsGet(d.client, d.order.url);
      return { status: r.status, data: r.data, retryAfter: Number(r.headers['retry-after'] ?? 0) };
    }));
    const what = `${JSON.stringify(views)}\n--- broker2:\n${broker2.log().slice(-3000)}`;
    assert.deepEqual(views.map((v) => v.data.status).sort(), ['processing', 'processing', 'valid', 'valid'], what);
    for (const v of views.filter((x) => x.data.status === 'processing')) assert.ok(v.retryAfter >= 86_400, `Retry-After ${v.retryAfter}: ${what}`);
    const waiting = devices.filter((_, i) => views[i]!.data.status === 'processing').map((d) => d.device).sort();
    const st = await brokerStatus(b2.conf);
    assert.deepEqual(st.queue.map((q) => q.device).sort(), waiting, JSON.stringify(st.queue));
    assert.ok(st.queue.every((q) => q.notBefore !== null && Date.parse(q.notBefore) >= Date.now() + 86_000_000), JSON.stringify(st.queue));
    const upstream = standIn.orders.slice(mark);
    assert.equal(upstream.filter((o) => o.status === 201).length, 2, JSON.stringify(upstream));
    assert.ok(upstream.every((o) => o.status !== 429), 'never refused by the CA');
  } finally {
    acme.axios.defaults.httpsAgent = new Agent({ ca: await fs.readFile(bundle) });
    await broker2.stop();
  }
});

test('broker serve with a bad broker.conf exits 2 with file:line and creates no store; enrolling a name outside every zone exits 2', async () => {
  const bad = path.join(dir, 'bad');
  const c = await writeBrokerConf({ dir: bad, upstream: standIn.directoryUrl, bindPort: bind.port, tsig, zone: ZONE, extra: ['parallel: lots'] });
  const r = await runCertfleet(['broker', 'serve', '--config', c.conf], { cwd: bad, env, timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /broker\.conf:\d+: error: parallel: must be a whole number/);
  assert.ok(!r.stderr.includes(tsig.secret), 'no TSIG secret in the output');
  assert.equal(existsSync(path.join(bad, 'store')), false, 'no store created');
  assert.equal(existsSync(path.join(bad, 'account.pem')), false, 'no account key created');

  const outside = await runCertfleet(['broker', 'enroll', '--config', b.conf, 'stray', `x${z}.example.org`], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(outside.code, 2, outside.stderr);
  assert.match(outside.stderr, new RegExp(`x${z}\\.example\\.org`));
  assert.ok(!(await brokerStatus()).devices.some((d) => d.id === 'stray'), 'not enrolled');
});
