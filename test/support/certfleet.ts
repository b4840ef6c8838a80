/**
 * Running certfleet the way a user does: the built binary, a conf dir in lematt's layout, and an
 * account key. Used by the e2e tests and scripts/demo.ts.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestServers } from './servers.ts';

/** The npm bundle, `<repo>/bin/certfleet` (made by `npm run build`). */
export const bundleBin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/certfleet');

/**
 * Absolute path of the certfleet under test: $CERTFLEET_BIN when set (e.g. the single executable
 * dist/certfleet-linux-x64 or the installed /usr/bin/certfleet; relative to the current
 * directory), else the bundle.
 */
export const certfleetBin = process.env.CERTFLEET_BIN ? resolve(process.env.CERTFLEET_BIN) : bundleBin;

/** What a certfleet run left behind. `signal` is set when it was killed (e.g. on timeout). */
export interface CertfleetResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `certfleetBin args…` with the current environment plus `opts.env` (put the harness's
 * caCertPath in NODE_EXTRA_CA_CERTS there), in `opts.cwd`, and resolves with its exit status and
 * output. After `timeoutMs` (default 120 s) its whole process group gets SIGTERM, then SIGKILL
 * 5 s later. Throws when the binary has not been built or cannot be started.
 */
export function runCertfleet(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CertfleetResult> {
  if (!existsSync(certfleetBin)) {
    const how = process.env.CERTFLEET_BIN ? '$CERTFLEET_BIN names no file' : "not built; run 'npm run build' first";
    return Promise.reject(new Error(`${certfleetBin}: ${how}`));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // set by node --test; must not leak into the CLI under test
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolvePromise, reject) => {
    // Own process group, so a timeout also ends the actions it started through /bin/sh.
    const child = spawn(certfleetBin, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      stderr.push(Buffer.from(`\n[runCertfleet: timed out after ${timeoutMs} ms, killing]\n`));
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), 5000);
    }, timeoutMs);
    const onExit = (): void => killGroup('SIGKILL');
    process.once('exit', onExit);
    child.on('error', (error) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      reject(new Error(`${certfleetBin}: cannot start: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      process.off('exit', onExit);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/**
 * Writes a fresh EC P-256 account key (PKCS#8 PEM, mode 0600) to `path`. Returns `path`.
 */
export async function writeAccountKey(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/**
 * Makes a temp conf dir in lematt's layout for the harness: `lematt.conf` (`[config]` with the
 * harness's drop dir, `accountKey`, `reauthorizeDays: 30` and `extraConfig` lines; `[acme:test]`
 * and `[acme:prod]` pointing at Pebble), `domains` (as given), `actions.conf` (default
 * `[default]` only) and a fresh EC P-256 `account.key`. Returns the path of lematt.conf; the
 * caller removes its directory when done.
 */
export async function makeConfDir(
  servers: TestServers,
  opts: { domains: string; actions?: string; extraConfig?: string },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-conf-'));
  const accountKey = await writeAccountKey(join(dir, 'account.key'));
  const extra = opts.extraConfig ? `${opts.extraConfig.replace(/\n$/, '')}\n` : '';
  const conf =
    '[config]\n' +
    `challengeDropDir: ${servers.dropDir}\n` +
    `accountKey: ${accountKey}\n` +
    'reauthorizeDays: 30\n' +
    extra +
    '\n[acme:test]\n' +
    `directory: ${servers.directoryUrl}\n` +
    '\n[acme:prod]\n' +
    `directory: ${servers.directoryUrl}\n`;
  const confPath = join(dir, 'lematt.conf');
  await writeFile(confPath, conf);
  await writeFile(join(dir, 'domains'), opts.domains.endsWith('\n') ? opts.domains : `${opts.domains}\n`);
  await writeFile(join(dir, 'actions.conf'), opts.actions ?? '[default]\n');
  return confPath;
}
