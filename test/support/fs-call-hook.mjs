// Loaded into a certfleet child through NODE_OPTIONS=--import (see kill-points.ts); plain JS
// because bin/certfleet runs under plain node. Counts the file-system calls the process makes
// (fs.promises, the *Sync functions, and FileHandle methods) and, when CERTFLEET_KILL_AT=N is
// set, sends itself CERTFLEET_KILL_SIGNAL (default SIGKILL) at the start of the Nth call, before
// the call happens. At exit, the count goes to CERTFLEET_COUNT_FILE. With CERTFLEET_LOCK_JITTER_MS
// = N, every fs.promises call on a path holding `.certfleet.lock` first waits a random 0…N ms,
// which widens the races between runs taking the lock. Children (actions) do not inherit the hook.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const killAt = Number(process.env.CERTFLEET_KILL_AT ?? 0);
const signal = process.env.CERTFLEET_KILL_SIGNAL ?? 'SIGKILL';
const countFile = process.env.CERTFLEET_COUNT_FILE;
const jitterMs = Number(process.env.CERTFLEET_LOCK_JITTER_MS ?? 0);
const writeCount = fs.writeFileSync;
for (const key of ['NODE_OPTIONS', 'CERTFLEET_KILL_AT', 'CERTFLEET_KILL_SIGNAL', 'CERTFLEET_COUNT_FILE', 'CERTFLEET_LOCK_JITTER_MS']) delete process.env[key];

let calls = 0;
let fired = false;
const hit = () => {
  calls++;
  if (killAt > 0 && calls === killAt && !fired) {
    fired = true;
    process.kill(process.pid, signal);
  }
};
const wrap = (target, name) => {
  const original = target[name];
  if (typeof original !== 'function' || original.__counted) return;
  const counted = function (...args) {
    hit();
    return original.apply(this, args);
  };
  counted.__counted = true;
  target[name] = counted;
};

const promiseCalls = ['access', 'appendFile', 'chmod', 'chown', 'copyFile', 'link', 'lstat', 'mkdir', 'mkdtemp', 'open', 'readdir',
  'readFile', 'readlink', 'realpath', 'rename', 'rm', 'rmdir', 'stat', 'symlink', 'truncate', 'unlink', 'utimes', 'writeFile'];
for (const name of promiseCalls) wrap(fs.promises, name);
if (jitterMs > 0) {
  for (const name of promiseCalls) {
    const counted = fs.promises[name];
    const slowed = async function (...args) {
      if (args.some((a) => typeof a === 'string' && a.includes('.certfleet.lock'))) {
        await new Promise((r) => setTimeout(r, Math.random() * jitterMs));
      }
      return counted.apply(this, args);
    };
    slowed.__counted = true;
    fs.promises[name] = slowed;
  }
}
for (const name of Object.keys(fs)) if (name.endsWith('Sync')) wrap(fs, name);
// FileHandle methods: reach the prototype through a handle on /dev/null.
const handle = await fs.promises.open('/dev/null', 'r');
const proto = Object.getPrototypeOf(handle);
await handle.close();
for (const name of ['chmod', 'close', 'datasync', 'read', 'readFile', 'stat', 'sync', 'truncate', 'write', 'writeFile']) wrap(proto, name);
syncBuiltinESMExports();
calls = 0;

if (countFile) process.on('exit', () => writeCount(countFile, String(calls)));
