/** The exec provider: how it calls the hook, failures and timeouts, and the contract through nsupdate against BIND. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createExecProvider } from '../../../../src/dns/providers/exec/provider.ts';
import { DnsProviderError } from '../../../../src/dns/providers/provider.ts';
import type { TsigKey } from '../../../../src/dns/tsig.ts';
import { startBind, type RunningBind } from '../../../support/bind.ts';
import { writeNsupdateHook } from '../../../support/nsupdate-hook.ts';
import { newValue, providerContract, served } from './contract.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certfleet-exec-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('exec provider: calling the hook', () => {
  it('runs "command present|cleanup FQDN. VALUE" with the same data in the environment', async () => {
    const log = join(dir, 'calls.log');
    const hook = await script('record', `echo "$# $1 $2 $3 $CERTFLEET_DNS_ACTION $CERTFLEET_DNS_FQDN $CERTFLEET_DNS_VALUE" >> '${log}'`);
    const provider = createExecProvider({ command: `${hook}`, timeoutMs: 5000 });
    await provider.present('_acme-challenge.Example.COM', 'v1');
    await provider.cleanup('_acme-challenge.example.com.', 'v1');
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      '3 present _acme-challenge.example.com. v1 present _acme-challenge.example.com. v1',
      '3 cleanup _acme-challenge.example.com. v1 cleanup _acme-challenge.example.com. v1',
    ]);
  });

  it('keeps arguments written in the command, as a shell command', async () => {
    const log = join(dir, 'args.log');
    const hook = await script('args', `echo "$@" >> '${log}'`);
    await createExecProvider({ command: `${hook} --zone int.example.com`, timeoutMs: 5000 }).present('_acme-challenge.a.example.com', 'v');
    assert.equal((await readFile(log, 'utf8')).trim(), '--zone int.example.com present _acme-challenge.a.example.com. v');
  });

  it('a non-zero exit fails with the status and the end of the output', async () => {
    const hook = await script('fail', 'echo "talking to the DNS API"; echo "API said: 403 forbidden" >&2; exit 3');
    await assert.rejects(createExecProvider({ command: hook, timeoutMs: 5000 }).present('_acme-challenge.a.example.com', 'v'), (e: unknown) => {
      assert.ok(e instanceof DnsProviderError);
      assert.equal(e.code, 'exec');
      assert.equal(e.message, 'exec present _acme-challenge.a.example.com.: exit status 3; output:\ntalking to the DNS API\nAPI said: 403 forbidden');
      return true;
    });
  });

  it('a missing command fails clearly', async () => {
    await assert.rejects(createExecProvider({ command: join(dir, 'nope'), timeoutMs: 5000 }).cleanup('_acme-challenge.a.example.com', 'v'), /exec cleanup _acme-challenge\.a\.example\.com\.: exit status 127; output:\n.*nope.*not found/s);
  });

  it('a hook that hangs is stopped after its timeout, children included', async () => {
    const hook = await script('hang', 'sleep 30 & sleep 30');
    const started = Date.now();
    await assert.rejects(createExecProvider({ command: hook, timeoutMs: 300, graceMs: 200 }).present('_acme-challenge.a.example.com', 'v'), /no result within 0\.3 s; stopped/);
    assert.ok(Date.now() - started < 5000, `bounded (${Date.now() - started} ms)`);
  });

  it('refuses a name or value the shell could misread, without running anything', async () => {
    const log = join(dir, 'never.log');
    const hook = await script('never', `echo ran >> '${log}'`);
    const provider = createExecProvider({ command: hook, timeoutMs: 5000 });
    await assert.rejects(provider.present("_acme-challenge.a.example.com'; touch x '", 'v'), /unexpected characters/);
    await assert.rejects(provider.present('_acme-challenge.a.example.com', '$(reboot)'), /unexpected characters/);
    await assert.rejects(readFile(log), { code: 'ENOENT' });
  });
});

describe('exec provider: an nsupdate hook against BIND', () => {
  const ZONE = 'exec.example.net';
  const OWNER = `_acme-challenge.${ZONE}`;
  const key: TsigKey = { name: 'certfleet-exec.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  let bind: RunningBind;
  let hook: string;
  const server = () => ({ host: '127.0.0.1', port: bind.port });
  before(async () => {
    bind = await startBind({ tsig: key, zones: [{ name: ZONE, records: ['_acme-challenge TXT "unrelated-token"', '@ TXT "v=spf1 -all"'] }] });
    hook = await writeNsupdateHook(dir, { port: bind.port, zone: ZONE, tsig: key });
  });
  after(() => bind?.stop());

  providerContract({ provider: () => createExecProvider({ command: hook, timeoutMs: 15_000 }), server, owner: OWNER, unrelated: ['unrelated-token'] });

  it('nsupdate refused (wrong key) fails the call with its output', async () => {
    const other = await mkdtemp(join(dir, 'wrong-'));
    const wrong = await writeNsupdateHook(other, { port: bind.port, zone: ZONE, tsig: { ...key, secret: randomBytes(32).toString('base64') } });
    await assert.rejects(createExecProvider({ command: wrong, timeoutMs: 15_000 }).present(OWNER, newValue()), /exec present _acme-challenge\.exec\.example\.net\.: exit status [12]; output:\n.*(NOTAUTH|BADSIG|tsig)/is);
    assert.deepEqual(await served(server(), OWNER), ['unrelated-token']);
  });
});
