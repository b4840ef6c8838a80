// The scheduled no-op: N domains lines (2N certificates) with nothing due, every certificate with
// an ARI answer whose next poll is hours away. Times the built binary under --cron against a bare
// `node -e 0`, checks it prints nothing and exits 0, and shows how the cost grows with N. No
// network: the directory URL points at a closed loopback port, so any request would fail the run.
// Then the cost of a run in which a tenth of the certificates are due for an ARI poll, answered
// by a small renewalInfo server in this process on loopback.
// Usage: npm run build && npm run bench [-- 100 1000]
// (CERTFLEET_BIN=path times another build of the binary on the same kind of store.)
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { copyFileSync, rmSync } from 'node:fs';
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

/** Times one run with a tenth of the polls due, the state reset before each sample; `polls` counts renewalInfo requests. */
async function timePolled(dir: string, directoryUrl: string, counter: { polls: number }): Promise<{ ms: number; polls: number }> {
  const samples: number[] = [];
  let polls = 0;
  for (let i = 0; i < RUNS; i++) {
    copyFileSync(path.join(dir, 'state-tenth-due.json'), path.join(dir, 'test', '.certfleet', 'state.json'));
    const before = counter.polls;
    const t = process.hrtime.bigint();
    const child = spawn(BIN, ['--test', '--cron', '--config', path.join(dir, 'lematt.conf'), '--directory', directoryUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (code !== 0 || out !== '') throw new Error(`polled run: exit ${code}, output ${out.slice(0, 300)}`);
    polls = counter.polls - before;
  }
  return { ms: median(samples), polls };
}

/** A renewalInfo server on loopback: a directory with renewalInfo, and a window in two months for any CertID. */
async function ariServer(counter: { polls: number }): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === '/dir') return res.end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/acct`, newOrder: `${base}/order`, renewalInfo: `${base}/renewal-info` }));
    counter.polls++;
    const start = Date.now() + 60 * 86_400_000;
    res.setHeader('retry-after', '21600');
    res.end(JSON.stringify({ suggestedWindow: { start: new Date(start).toISOString(), end: new Date(start + 2 * 86_400_000).toISOString() } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/dir`, close: () => server.close() };
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
    if (lines === Math.max(...(sizes.length ? sizes : [1000]))) {
      const counter = { polls: 0 };
      const server = await ariServer(counter);
      try {
        const polled = await timePolled(dir, server.url, counter);
        console.log(`${String(lines).padStart(5)} lines, a tenth due for an ARI poll (${polled.polls} renewalInfo requests): ${polled.ms.toFixed(0)} ms = ${(polled.ms / baseline).toFixed(1)}x node -e 0`);
      } finally {
        server.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
