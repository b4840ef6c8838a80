// The nightly no-op: N domains lines (2N certificates) with nothing due. Times the built binary
// under --cron against a bare `node -e 0`, checks it prints nothing and exits 0, and shows how the
// cost grows with N. No network: the directory URL points at a closed loopback port, so any
// request would fail the run. Usage: npm run build && npm run bench [-- 100 1000]
// (CERTFLEET_BIN=path times another build of the binary on the same kind of store.)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { keyPair, makeConf } from './noop-conf.ts';

const BIN = process.env.CERTFLEET_BIN ?? path.resolve(import.meta.dirname, '../bin/certfleet');
const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(cmd: string, args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0 || r.stdout !== '' || r.stderr !== '') throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}, output ${JSON.stringify(r.stdout + r.stderr).slice(0, 300)}`);
  }
  return median(samples);
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const keys = { rsa: await keyPair('rsa'), ec: await keyPair('ec') };
const baseline = time(process.execPath, ['-e', '0']);
console.log(`node -e 0: ${baseline.toFixed(0)} ms (median of ${RUNS}); node ${process.version}`);
for (const lines of sizes.length ? sizes : [100, 250, 500, 1000]) {
  const dir = await makeConf(lines, keys);
  try {
    // The hourly no-op finds a settled store and a warm facts cache (link-vouch.ts): wait out the
    // settling time of the just-written directories, then one untimed run fills the cache.
    await new Promise((r) => setTimeout(r, 3500));
    spawnSync(BIN, ['--test', '--cron', '--config', path.join(dir, 'lematt.conf'), '--directory', 'https://127.0.0.1:9/dir']);
    const ms = time(BIN, ['--test', '--cron', '--config', path.join(dir, 'lematt.conf'), '--directory', 'https://127.0.0.1:9/dir']);
    console.log(`${String(lines).padStart(5)} lines (${lines * 2} certificates): ${ms.toFixed(0)} ms = ${(ms / baseline).toFixed(1)}x node -e 0, ${((ms - baseline) / (lines * 2) * 1000).toFixed(0)} µs per certificate above baseline; output empty, exit 0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
