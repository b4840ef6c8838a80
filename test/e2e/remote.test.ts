// End to end: names served by other hosts than the one holding the drop dir. The built
// bin/certfleet against Pebble, with pebble-challtestsrv as Pebble's DNS (setA points names at
// other loopback addresses) and nginx serving the drop dir on 127.0.0.1 only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import acme from 'acme-client';
import { fetchText } from '../support/http.ts';
import { startProcess, waitReady, type ServerProcess } from '../support/process.ts';
import { certfleetBin, makeConfDir, runCertfleet, startTestServers, type TestServers } from '../support/servers.ts';

let servers: TestServers;
let env: Record<string, string>;
const children: ServerProcess[] = [];
const tempDirs: string[] = [];

before(async () => {
  servers = await startTestServers();
  env = { NODE_EXTRA_CA_CERTS: servers.caCertPath };
});
after(async () => {
  await Promise.all(children.map((child) => child.stop(2000)));
  await servers?.stop();
  await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

const rand = () => randomBytes(4).toString('hex');
const run = (args: string[]) => runCertfleet(args, { env, timeoutMs: 120_000 });
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Makes a conf dir (removed in after()) and returns its lematt.conf. */
async function confDir(opts: Parameters<typeof makeConfDir>[1]): Promise<string> {
  const conf = await makeConfDir(servers, opts);
  tempDirs.push(path.dirname(conf));
  return conf;
}

/**
 * Starts `bin/certfleet args…` as a long-running server (stopped in after() at the latest) and
 * resolves once it logged `listening on`; throws with its output if that takes over 10 s.
 */
async function serve(args: string[]): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  const child = startProcess(`certfleet ${args[0]}`, certfleetBin, args, childEnv, process.cwd());
  children.push(child);
  await waitReady(child, 'listener', Date.now() + 10_000, async () => /: listening on /.test(child.tail()));
  return child;
}

/** Stops `child` with SIGTERM; returns its exit and how long it took. */
async function stopTimed(child: ServerProcess): Promise<{ exit: ReturnType<ServerProcess['exited']>; ms: number }> {
  const started = Date.now();
  await child.stop(5000);
  return { exit: child.exited(), ms: Date.now() - started };
}

test('a name pointing at a host where `certfleet forward` redirects to the central drop dir', async (t) => {
  const name = `fwd${rand()}.example.com`;
  await servers.setA(name, ['127.0.0.2']);
  const central = `http://127.0.0.1:${servers.httpPort}`;
  const forward = await serve(['forward', '--to', central, '--listen', `127.0.0.2:${servers.httpPort}`]);

  const conf = await confDir({ domains: name });
  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 0, `${res.stderr}\n${forward.tail()}\n${servers.logs()}`);
  assert.deepEqual(JSON.parse(res.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });

  // The CA came to 127.0.0.2 and was sent on to the drop dir.
  const redirect = new RegExp(`"GET /\\.well-known/acme-challenge/[\\w-]+" 301 -> ${escape(central)}/\\.well-known/acme-challenge/[\\w-]+`);
  assert.match(forward.tail(), redirect);

  const { exit, ms } = await stopTimed(forward);
  assert.deepEqual(exit, { code: 0, signal: null }, forward.tail());
  t.diagnostic(`forward stopped ${ms} ms after SIGTERM`);
  assert.ok(ms < 2000, `stopped in ${ms} ms`);
  assert.match(forward.tail(), /: stopped \(SIGTERM\)/);
  await servers.clearA(name);
});

test('a name validated by `certfleet respond` alone, without a served drop dir', async () => {
  const name = `resp${rand()}.example.com`;
  await servers.setA(name, ['127.0.0.3']);
  const conf = await confDir({ domains: name });
  // A drop dir nothing serves: only respond can answer the CA.
  const unserved = await fs.mkdtemp(path.join(tmpdir(), 'certfleet-unserved-'));
  tempDirs.push(unserved);
  const text = await fs.readFile(conf, 'utf8');
  await fs.writeFile(conf, text.replace(`challengeDropDir: ${servers.dropDir}\n`, `challengeDropDir: ${unserved}\n`));
  assert.match(await fs.readFile(conf, 'utf8'), new RegExp(`challengeDropDir: ${escape(unserved)}\n`));

  const respond = await serve(['respond', '--config', conf, '--listen', `127.0.0.3:${servers.httpPort}`]);
  const thumbprint = await run(['thumbprint', '--config', conf]);
  assert.equal(thumbprint.code, 0, thumbprint.stderr);
  assert.match(thumbprint.stdout, /^[\w-]{43}\n$/);
  const answer = await fetchText(`http://127.0.0.3:${servers.httpPort}/.well-known/acme-challenge/Tok_en-1`);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, `Tok_en-1.${thumbprint.stdout.trim()}`, 'respond answers with the thumbprint printed by `thumbprint`');

  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 0, `${res.stderr}\n${respond.tail()}\n${servers.logs()}`);
  assert.deepEqual(JSON.parse(res.stdout).counts, { issued: 2, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 });
  // Every request but our own probe came from the CA and was answered from the thumbprint.
  const served = respond.tail().split('\n').filter((line) => /"GET \/\.well-known\/acme-challenge\/[\w-]+" 200$/.test(line));
  assert.ok(served.length >= 2, `the CA asked respond: ${respond.tail()}`);
  assert.deepEqual(await fs.readdir(unserved), [], 'token files written there were removed');

  const { exit } = await stopTimed(respond);
  assert.deepEqual(exit, { code: 0, signal: null }, respond.tail());
  await servers.clearA(name);
});

interface ChallengeState {
  orderUrl: string;
  order: string;
  authorizationUrl: string;
  authorization: string;
  challenge: string;
  token: string;
  validated?: string;
}

/**
 * Asks Pebble, as the account of `conf`, for the http-01 challenges of every order of `name`.
 * Uses the account's orders list (RFC 8555 §7.1.2.1), which acme-client reaches only through
 * its internal api object. Orders outlive our run, so this is the CA's own record.
 */
async function challengesAtCa(accountKeyPath: string, name: string): Promise<ChallengeState[]> {
  acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(servers.caCertPath) });
  const client = new acme.Client({ directoryUrl: servers.directoryUrl, accountKey: await fs.readFile(accountKeyPath) });
  const account = (await client.createAccount({ onlyReturnExisting: true })) as { orders?: string };
  assert.ok(account.orders, 'Pebble lists the account orders');
  const api = (client as unknown as { api: { apiRequest(url: string, payload: null, codes: number[]): Promise<{ data: { orders: string[] }; headers: Record<string, unknown> }> } }).api;
  const orders: string[] = [];
  // Pebble pages the list (Link: rel="next", RFC 8555 §7.1.2.1).
  for (let page: string | undefined = account.orders; page; ) {
    const resp = await api.apiRequest(page, null, [200]);
    orders.push(...resp.data.orders);
    page = /<([^>]+)>;\s*rel="next"/.exec(String(resp.headers.link ?? ''))?.[1];
  }
  const states: ChallengeState[] = [];
  for (const url of orders) {
    const order = await client.getOrder({ url } as acme.Order);
    if (!order.identifiers.some((i) => i.value === name)) continue;
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.identifier.value !== name) continue;
      const challenge = authz.challenges.find((c) => c.type === 'http-01')!;
      states.push({ orderUrl: url, order: order.status, authorizationUrl: authz.url, authorization: authz.status, challenge: challenge.status, token: challenge.token, validated: challenge.validated });
    }
  }
  return states;
}

test('pre-flight stops a round-robin name with a dead address before the CA is asked', async () => {
  const z = rand();
  const good = `good${z}.example.com`;
  const roundRobin = `rr${z}.example.com`;
  await servers.setA(roundRobin, ['127.0.0.1', '127.0.0.4']); // nothing listens on 127.0.0.4
  const conf = await confDir({
    domains: `${good}\n${roundRobin}\n`,
    extraConfig: `preflight: yes\nresolver: 127.0.0.1:${servers.dnsPort}\npreflightPort: ${servers.httpPort}\n`,
  });

  const res = await run(['--test', '--config', conf, '--json']);
  assert.equal(res.code, 1, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.deepEqual(summary.counts, { issued: 2, renewed: 0, unchanged: 0, failed: 2, waiting: 0, deferred: 0 }, res.stderr);
  for (const result of summary.results as { names: string[]; status: string; errorType: string | null; error: string | null }[]) {
    if (result.names[0] === good) {
      assert.equal(result.status, 'issued', result.error ?? '');
      continue;
    }
    assert.equal(result.status, 'failed');
    assert.equal(result.errorType, 'preflight', result.error!);
    assert.match(result.error!, new RegExp(`${escape(roundRobin)} 127\\.0\\.0\\.4: http://${escape(roundRobin)}:${servers.httpPort}/\\.well-known/acme-challenge/[\\w-]+: ECONNREFUSED`));
    assert.doesNotMatch(result.error!, /127\.0\.0\.1/, 'the address that answered right is not blamed');
  }
  assert.match(res.stderr, new RegExp(`${escape(good)}: pre-flight ok from 127\\.0\\.0\\.1`));

  // At the CA: both orders of the round-robin name wait, and no challenge was ever responded to
  // (a challenge the CA was told to validate is processing, valid or invalid, never pending).
  const states = await challengesAtCa(path.join(path.dirname(conf), 'account.key'), roundRobin);
  assert.equal(states.length, 2, JSON.stringify(states));
  for (const state of states) {
    assert.deepEqual([state.order, state.authorization, state.challenge, state.validated], ['pending', 'pending', 'pending', undefined]);
  }
  // nginx saw only the pre-flight for those tokens (via 127.0.0.1), never Pebble's validation.
  const accessLog = await fs.readFile(path.join(servers.dir, 'nginx-access.log'), 'utf8');
  for (const { token } of states) {
    const lines = accessLog.split('\n').filter((line) => line.includes(`/.well-known/acme-challenge/${token} `));
    assert.ok(lines.length >= 1, `pre-flight fetched ${token} from 127.0.0.1`);
    for (const line of lines) assert.match(line, /" 200 \d+ "-" "certfleet-preflight"$/);
  }
  assert.deepEqual(await fs.readdir(servers.dropDir), [], 'token files removed after the failed pre-flight');
  await servers.clearA(roundRobin);
});
