import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { runShellCommand, splitArgv, startPrepare } from '../../../src/process/run-command.ts';
import { alive, tempDir, waitFor } from '../actions/support.ts';

const readPid = (file: string) => waitFor(`pid in ${file}`, async () => {
  const text = await readFile(file, 'utf8').catch(() => '');
  return /^\d+\n$/.test(text) ? Number(text) : undefined;
});

describe('runShellCommand', () => {
  it('runs through /bin/sh -c and captures stdout and stderr as they arrive', async () => {
    const result = await runShellCommand('echo out; sleep 0.2; echo err >&2; sleep 0.2; echo /dev/nul*; exit 3', { timeoutMs: 5_000 });
    assert.deepEqual({ ...result, durationMs: 0 }, { exitCode: 3, signal: null, timedOut: false, output: 'out\nerr\n/dev/null\n', durationMs: 0 });
    assert.ok(result.durationMs >= 400 && result.durationMs < 3_000, `took ${result.durationMs} ms`);
  });

  it('passes the extra environment on top of certfleet\'s own', async () => {
    const result = await runShellCommand('printf "%s|%s" "$CERTFLEET_CERTS" "${PATH:+has-path}"', { timeoutMs: 5_000, env: { CERTFLEET_CERTS: '/a b\n/c' } });
    assert.equal(result.output, '/a b\n/c|has-path');
  });

  it('keeps only the last 64 KiB of output', async () => {
    const result = await runShellCommand('head -c 100000 /dev/zero | tr "\\0" a; echo END', { timeoutMs: 5_000 });
    assert.equal(result.exitCode, 0);
    // 100 000 bytes of "a" and "END\n": 100 004 - 65 536 = 34 468 dropped
    assert.ok(/^\[34468 earlier bytes of output not kept\]\na+END\n$/.test(result.output), result.output.slice(0, 80));
    assert.equal(Buffer.byteLength(result.output.slice(result.output.indexOf('\n') + 1)), 64 * 1024);
  });

  it('on timeout stops the whole group, the command and its background child', async () => {
    const pidFile = path.join(await tempDir(), 'child.pid');
    const started = Date.now();
    const result = await runShellCommand(`sleep 100 & echo $! > '${pidFile}'; echo started; sleep 100`, { timeoutMs: 300, graceMs: 2_000 });
    assert.equal(result.timedOut, true);
    assert.equal(result.output, 'started\n');
    assert.ok(Date.now() - started < 2_000, 'TERM was enough, no grace period spent');
    assert.equal(alive(await readPid(pidFile)), false, 'the background sleep is gone');
  });

  it('a group that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const pidFile = path.join(await tempDir(), 'child.pid');
    const result = await runShellCommand(`trap '' TERM; sleep 100 & echo $! > '${pidFile}'; sleep 100`, { timeoutMs: 200, graceMs: 400 });
    assert.equal(result.timedOut, true);
    assert.ok(result.durationMs >= 550 && result.durationMs < 4_000, `took ${result.durationMs} ms`);
    assert.equal(alive(await readPid(pidFile)), false);
  });

  it('returns when the shell exits, even if a background process keeps its output open', async () => {
    const result = await runShellCommand('sleep 30 & echo $!', { timeoutMs: 10_000 });
    const pid = Number(result.output.trim());
    try {
      assert.equal(result.exitCode, 0);
      assert.ok(result.durationMs < 2_000, `took ${result.durationMs} ms`);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});

describe('startPrepare', () => {
  it('splits on whitespace like Python str.split()', () => {
    assert.deepEqual(splitArgv('  ssh -t\thost  "serve x" \n'), ['ssh', '-t', 'host', '"serve', 'x"']);
  });

  it('stop() leaves no process of the group behind, grandchildren included', async () => {
    const dir = await tempDir();
    const script = path.join(dir, 'prep.sh');
    await writeFile(script, '#!/bin/sh\nsleep 100 &\necho $! > "$1"\nsleep 100\n');
    await chmod(script, 0o755);
    const pidFile = path.join(dir, 'child.pid');
    const handle = await startPrepare(`${script} ${pidFile}`);
    const child = await readPid(pidFile);
    assert.ok(alive(handle.pid) && alive(child));
    const result = await handle.stop(2_000);
    assert.equal(alive(handle.pid), false, 'the prepare process is gone');
    assert.equal(alive(child), false, 'its child is gone');
    assert.deepEqual({ signal: result.signal, exitedEarly: result.exitedEarly }, { signal: 'SIGTERM', exitedEarly: false });
    assert.equal(await handle.stop(), result, 'a second stop() is the same');
  });

  it('runs without a shell: quotes and $ reach the program as they are', async () => {
    const handle = await startPrepare('/bin/echo "a  b" $HOME *');
    await waitFor('exit', () => handle.exited() ?? undefined);
    assert.deepEqual(await handle.stop(500), { exitCode: 0, signal: null, exitedEarly: true, output: '"a b" $HOME *\n' });
  });

  it('passes the extra environment on top of certfleet\'s own', async () => {
    const handle = await startPrepare('/usr/bin/env', { env: { CERTFLEET_DOMAIN: 'a.test' } });
    await waitFor('exit', () => handle.exited() ?? undefined);
    const lines = (await handle.stop(500)).output.split('\n');
    assert.ok(lines.includes('CERTFLEET_DOMAIN=a.test'));
    assert.ok(lines.some((line) => line.startsWith('PATH=')));
  });

  it('if certfleet exits while a prepare runs, the group does not outlive it', async () => {
    const dir = await tempDir();
    const script = path.join(dir, 'prep.sh');
    await writeFile(script, '#!/bin/sh\nsleep 100 &\necho $! > "$1"\nexec sleep 100\n');
    await chmod(script, 0o755);
    const pidFile = path.join(dir, 'child.pid');
    const main = path.join(dir, 'main.mts');
    const module = fileURLToPath(new URL('../../../src/process/run-command.ts', import.meta.url));
    await writeFile(main, [
      `import { startPrepare } from ${JSON.stringify(module)};`,
      `const handle = await startPrepare(${JSON.stringify(`${script} ${pidFile}`)});`,
      'console.log(handle.pid);',
      `while (!(await import('node:fs')).existsSync(${JSON.stringify(pidFile)})) await new Promise((r) => setTimeout(r, 20));`,
      'process.exit(0);',
    ].join('\n'));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main], { timeout: 20_000 });
    const leader = Number(stdout.trim());
    const child = await readPid(pidFile);
    await waitFor('the group to die', () => (alive(leader) || alive(child) ? undefined : true), 2_000);
  });

  it('a missing executable is an error naming the command', async () => {
    await assert.rejects(startPrepare('/nonexistent/prep.sh default a.test'), {
      message: 'prepare "/nonexistent/prep.sh default a.test": cannot run /nonexistent/prep.sh: no such file',
    });
    await assert.rejects(startPrepare('certfleet-no-such-command a.test'), /cannot run certfleet-no-such-command: not found in PATH/);
    await assert.rejects(startPrepare('   '), /empty command/);
  });
});
