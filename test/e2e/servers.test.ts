/**
 * Proves the real-server harness works before any certfleet e2e test relies on it: Pebble over
 * TLS, nginx on the drop dir, challtestsrv's DNS, Pebble's roots, a full http-01 issuance through
 * all three, and a stop() that leaves nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import acme from 'acme-client';
import { startTestServers, type TestServers } from '../support/servers.ts';
import { fetchText } from '../support/http.ts';
import { queryA } from '../support/dns-query.ts';

const randomName = (): string => `h${randomBytes(6).toString('hex')}.example.com`;

/** Pids of live processes whose command line or working directory mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && (cmdline.includes(needle) || cwd.startsWith(needle))) found.push(Number(entry));
    } catch {
      // the process ended while we looked, or is not ours to inspect
    }
  }
  return found;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('test servers harness', () => {
  let servers: TestServers;
  let ca: string;

  before(async () => {
    servers = await startTestServers();
    ca = readFileSync(servers.caCertPath, 'utf8');
  });
  after(async () => {
    await servers?.stop();
  });

  it('serves Pebble\'s ACME directory over TLS signed by caCertPath only', async () => {
    const res = await fetchText(servers.directoryUrl, { ca });
    assert.equal(res.status, 200);
    const directory = JSON.parse(res.body) as Record<string, unknown>;
    for (const key of ['newNonce', 'newAccount', 'newOrder']) {
      assert.match(String(directory[key]), /^https:\/\/127\.0\.0\.1:\d+\//, key);
    }
    await assert.rejects(fetchText(servers.directoryUrl), /self[- ]signed|unable to verify|issuer/i);
  });

  it('serves files of dropDir through nginx at /.well-known/acme-challenge/', async () => {
    const token = randomBytes(16).toString('base64url');
    await writeFile(join(servers.dropDir, token), `${token}.thumbprint`);
    const base = `http://127.0.0.1:${servers.httpPort}`;
    const res = await fetchText(`${base}/.well-known/acme-challenge/${token}`);
    assert.equal(res.status, 200);
    assert.equal(res.body, `${token}.thumbprint`);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(String(res.headers.server), /^nginx/);
    assert.equal((await fetchText(`${base}/.well-known/acme-challenge/missing-${token}`)).status, 404);
    assert.equal((await fetchText(`${base}/${token}`)).status, 404);
  });

  it('answers DNS A queries with 127.0.0.1 by default and with what setA set', async () => {
    const host = randomName();
    assert.deepEqual((await queryA('127.0.0.1', servers.dnsPort, host)).addresses, ['127.0.0.1']);
    await servers.setA(host, ['10.20.30.40', '10.20.30.41']);
    const answer = await queryA('127.0.0.1', servers.dnsPort, host);
    assert.equal(answer.rcode, 0);
    assert.deepEqual([...answer.addresses].sort(), ['10.20.30.40', '10.20.30.41']);
    await servers.clearA(host);
    assert.deepEqual((await queryA('127.0.0.1', servers.dnsPort, host)).addresses, ['127.0.0.1']);
  });

  it('returns Pebble\'s root and an intermediate issued by it', async () => {
    const root = new X509Certificate(await servers.rootPem());
    const intermediate = new X509Certificate(await servers.intermediatePem());
    assert.equal(root.ca, true);
    assert.match(root.subject, /Pebble Root CA/);
    assert.equal(intermediate.checkIssued(root), true);
    assert.equal(intermediate.verify(root.publicKey), true);
  });

  it('lets Pebble validate http-01 through challtestsrv\'s DNS and nginx', async () => {
    acme.axios.defaults.httpsAgent = new Agent({ ca });
    const client = new acme.Client({
      directoryUrl: servers.directoryUrl,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
    });
    const name = randomName();
    const [, csr] = await acme.crypto.createCsr({ commonName: name }, await acme.crypto.createPrivateEcdsaKey());
    const written: string[] = [];
    const chain = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true, // its self-check would ask the system resolver, not challtestsrv
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        written.push(challenge.token);
        await writeFile(join(servers.dropDir, challenge.token), keyAuthorization);
      },
      challengeRemoveFn: async () => {},
    });
    assert.equal(written.length, 1);
    const leaf = new X509Certificate(chain);
    assert.match(String(leaf.subjectAltName), new RegExp(`DNS:${name.replace(/\./g, '\\.')}`));
    const intermediate = new X509Certificate(await servers.intermediatePem());
    assert.equal(leaf.checkIssued(intermediate), true);
  });

  it('stop() ends all three servers and removes the temp dir', async () => {
    const live = processesMentioning(servers.dir);
    assert.ok(live.length >= 3, `expected pebble, challtestsrv and nginx (+worker) in ${servers.dir}, saw ${live}`);
    await servers.stop();
    assert.deepEqual(processesMentioning(servers.dir), []);
    for (const port of [servers.httpPort, servers.dnsPort, Number(new URL(servers.directoryUrl).port)]) {
      assert.equal(await portAccepts(port), false, `port ${port} still accepts connections`);
    }
    assert.equal(existsSync(servers.dir), false);
  });
});
