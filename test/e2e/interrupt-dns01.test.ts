// A run killed (SIGKILL) or stopped (SIGTERM) while its dns-01 TXT record is in a real BIND zone:
// the zone ends as it was before, because every record is recorded before it is added and the
// next run removes what a killed run left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TsigKey } from '../../src/dns/tsig.ts';
import { startBind, type RunningBind } from '../support/bind.ts';
import { certfleetBin, makeConfDir, runCertfleet, startTestServers, type TestServers } from '../support/servers.ts';
import { served } from '../unit/dns/providers/contract.ts';

const z = randomBytes(4).toString('hex');
const ZONE = `kill${z}.example.com`;
const key: TsigKey = { name: 'certfleet-e2e.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

let bind: RunningBind;
let servers: TestServers;
before(async () => {
  bind = await startBind({ tsig: key, zones: [{ name: ZONE, records: ['@ A 127.0.0.1', '_acme-challenge.keep TXT "not-ours"'] }] });
  servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
});
after(async () => {
  await servers?.stop();
  await bind?.stop();
});

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`dns-01: a run ${signal === 'SIGKILL' ? 'killed' : 'stopped with SIGTERM'} while its TXT record is served leaves the zone as it was`, async () => {
    const name = `${signal.toLowerCase()}.${ZONE}`;
    const conf = await makeConfDir(servers, { domains: `${name}\n` });
    const dns = `127.0.0.1:${bind.port}`;
    await fs.appendFile(conf, ['', '[dns:zone]', `zones: ${ZONE}`, 'provider: rfc2136', `server: ${dns}`, `tsigKey: ${key.name}`,
      'tsigAlgorithm: hmac-sha256', `tsigSecret: ${key.secret}`, `nameservers: ${dns}`, 'propagationTimeout: 20', ''].join('\n'));
    const at = { host: '127.0.0.1', port: bind.port };
    const owner = `_acme-challenge.${name}`;
    assert.deepEqual(await served(at, owner), []);

    const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: servers.caCertPath };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(certfleetBin, ['--test', '--config', conf], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while ((await served(at, owner)).length === 0) {
      assert.ok(Date.now() < deadline, 'the TXT record never appeared');
    }
    const stoppedAt = Date.now();
    child.kill(signal);
    const code = await done;
    if (signal === 'SIGTERM') {
      assert.equal(code, 143, Buffer.concat(err).toString());
      assert.ok(Date.now() - stoppedAt < 5000, `stopped after ${Date.now() - stoppedAt} ms`);
      assert.deepEqual(await served(at, owner), [], 'removed before it exited');
    } else {
      assert.equal((await served(at, owner)).length, 1, 'SIGKILL allows no cleanup: the record stays until the next run');
    }
    const next = await runCertfleet(['--test', '--config', conf], { env: { NODE_EXTRA_CA_CERTS: servers.caCertPath }, timeoutMs: 60_000 });
    assert.equal(next.code, 0, next.stderr);
    if (signal === 'SIGKILL') assert.match(next.stderr, new RegExp(`removed TXT ${owner.replace(/\./g, '\\.')}`));
    assert.deepEqual(await served(at, owner), []);
    assert.deepEqual(await served(at, `_acme-challenge.keep.${ZONE}`), ['not-ours'], 'a record certfleet did not make stays');
    assert.deepEqual(await fs.readdir(path.join(path.dirname(conf), 'test/.certfleet/challenges')), []);
  });
}
