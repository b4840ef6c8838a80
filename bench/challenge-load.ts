// `respond` and `forward` under hostile load (issue 11): the built binary listens on a loopback
// port while a child process (hold-connections.ts) holds 600 idle and 600 slow-header connections
// against it, reopening any the server closes as an attacker would, and this process sends good
// challenge requests: 200 paced one every 25 ms, then a burst of 1,000 at once, each on a fresh
// connection as a CA does.
// Reports per server the share answered (and within 1 s) and p50/p99 latency, as readable lines
// and then JSON on stdout.
//
// Usage: npm run build && npm run bench:challenge [-- --bin PATH] [--nofile N] [--idle 600]
//   [--slow 600] [--paced 200] [--burst 1000] [--servers respond,forward]
// --bin benchmarks another build (e.g. main's, for a before/after); --nofile runs the server
// under `prlimit --nofile=N:N` to see it inside a small file-descriptor budget. The holders need
// idle+slow+100 descriptors, this process burst+100; Node raises its soft limit to the hard one
// at start, so the bench checks that limit and says so when it is too low.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { goodRequest, summarise, type Outcome, type Summary } from './load-clients.ts';

const { values: args } = parseArgs({
  options: {
    bin: { type: 'string', default: path.resolve(import.meta.dirname, '../bin/certfleet') },
    nofile: { type: 'string' },
    idle: { type: 'string', default: '600' },
    slow: { type: 'string', default: '600' },
    paced: { type: 'string', default: '200' },
    burst: { type: 'string', default: '1000' },
    servers: { type: 'string', default: 'respond,forward' },
  },
});
const count = (name: keyof typeof args): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 0 || n > 5_000) throw new Error(`--${name}: a whole number from 0 to 5000`);
  return n;
};
const IDLE = count('idle');
const SLOW = count('slow');
const PACED = count('paced');
const BURST = count('burst');
const PACE_MS = 25;

function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]) || Infinity;
}
const needed = Math.max(IDLE + SLOW, BURST) + 100;
if (openFilesLimit() < needed) {
  console.error(`bench: needs ${needed} file descriptors, the limit is ${openFilesLimit()}; raise it (ulimit -n ${needed})`);
  process.exit(1);
}

interface Server {
  child: ChildProcess;
  port: number;
  logLines: () => number;
  stop: () => Promise<void>;
}

/** Starts `certfleet <args> --listen 127.0.0.1:0` and resolves once it says where it listens. */
function startServer(cmdArgs: string[]): Promise<Server> {
  const node = [process.execPath, args.bin, ...cmdArgs, '--listen', '127.0.0.1:0'];
  const argv = args.nofile ? ['prlimit', `--nofile=${args.nofile}:${args.nofile}`, '--', ...node] : node;
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let lines = 0;
  let head = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${head}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      lines += text.split('\n').length - 1;
      if (head.length < 4_000) head += text;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(head);
      if (m && timer.hasRef()) {
        clearTimeout(timer);
        timer.unref();
        resolve({
          child,
          port: Number(m[1]),
          logLines: () => lines,
          stop: () =>
            new Promise((done) => {
              const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => done(clearTimeout(kill)));
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}:\n${head}`)));
  });
}

/** The holders, run in bench/hold-connections.ts; `open` and `reopened` are its latest report. */
function startHolders(port: number): { open: () => number; reopened: () => number; stop: () => Promise<void> } {
  const script = path.join(import.meta.dirname, 'hold-connections.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), String(IDLE), String(SLOW)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let last = [0, 0];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    if (lines.length) last = lines[lines.length - 1].split(' ').map(Number);
  });
  return {
    open: () => last[0],
    reopened: () => last[1],
    stop: () =>
      new Promise((done) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => done(clearTimeout(kill)));
        child.stdin!.end();
      }),
  };
}

/** Peak resident memory of a process in MB, from /proc (Linux). */
function peakRssMb(pid: number | undefined): number | null {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    // Fields after the command name; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Math.round((Number(fields[11]) + Number(fields[12])) / 10) / 10;
  } catch {
    return null;
  }
}

interface Result {
  server: string;
  heldTarget: number;
  heldAtStart: number;
  heldMin: number;
  holderReopens: number;
  paced: Summary;
  burst: Summary;
  serverLogLines: number;
  serverPeakRssMb: number | null;
  /** Assumes 100 clock ticks per second, as on every common Linux build. */
  serverCpuS: number | null;
}

async function bench(name: string, cmdArgs: string[], expect: (raw: string, token: string) => boolean): Promise<Result> {
  const server = await startServer(cmdArgs);
  const holders = startHolders(server.port);
  try {
    const until = Date.now() + 10_000;
    while (holders.open() < IDLE + SLOW && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    // A client sees its connection open once the kernel has it, before the server accepted it;
    // a second lets the server take the opening flood, so what follows measures holding.
    await new Promise((r) => setTimeout(r, 1_000));
    const heldAtStart = holders.open();
    let heldMin = heldAtStart;
    const sampler = setInterval(() => (heldMin = Math.min(heldMin, holders.open())), 100);
    const ask = (i: number, timeoutMs: number): Promise<Outcome> => {
      const token = `bench-${name}-${i}`;
      return goodRequest(server.port, token, (raw) => expect(raw, token), timeoutMs);
    };
    const pacedRuns: Promise<Outcome>[] = [];
    for (let i = 0; i < PACED; i++) {
      pacedRuns.push(ask(i, 5_000));
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
    const paced = summarise(await Promise.all(pacedRuns));
    const burst = summarise(await Promise.all(Array.from({ length: BURST }, (_, i) => ask(PACED + i, 10_000))));
    clearInterval(sampler);
    return {
      server: name,
      heldTarget: IDLE + SLOW,
      heldAtStart,
      heldMin,
      holderReopens: holders.reopened(),
      paced,
      burst,
      serverLogLines: server.logLines(),
      serverPeakRssMb: peakRssMb(server.child.pid),
      serverCpuS: cpuSeconds(server.child.pid),
    };
  } finally {
    await holders.stop();
    await server.stop();
  }
}

function line(r: Result): string {
  const part = (label: string, s: Summary): string =>
    `${label} ${s.answered}/${s.sent} answered (${(s.within1sShare * 100).toFixed(1)}% within 1 s, p50 ${s.p50Ms ?? '-'} ms, p99 ${s.p99Ms ?? '-'} ms` +
    `${Object.keys(s.failures).length ? `; failed: ${JSON.stringify(s.failures)}` : ''})`;
  return `${r.server}: holding ${r.heldAtStart}/${r.heldTarget} (min ${r.heldMin}, ${r.holderReopens} reopened): ${part('paced', r.paced)}; ${part('burst', r.burst)}; server ${r.serverPeakRssMb ?? '-'} MB peak, ${r.serverCpuS ?? '-'} s CPU`;
}

const dir = mkdtempSync(path.join(tmpdir(), 'certfleet-challenge-load-'));
try {
  // respond on main needs a whole conf dir (lematt.conf, domains) besides the account key.
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(path.join(dir, 'account.key'), key, { mode: 0o600 });
  writeFileSync(path.join(dir, 'lematt.conf'), `[config]\nchallengeDropDir: ${dir}\naccountKey: ${dir}/account.key\n`);
  writeFileSync(path.join(dir, 'domains'), 'bench.example\n');
  writeFileSync(path.join(dir, 'actions.conf'), '[default]\n');
  const kinds: Record<string, [string[], (raw: string, token: string) => boolean]> = {
    respond: [['respond', '--config', path.join(dir, 'lematt.conf')], (raw, token) => raw.startsWith('HTTP/1.1 200 ') && raw.includes(`\r\n\r\n${token}.`)],
    forward: [['forward', '--to', 'http://127.0.0.1:9/central'], (raw, token) => raw.startsWith('HTTP/1.1 301 ') && raw.includes(`/acme-challenge/${token}\r\n`)],
  };
  const results: Result[] = [];
  for (const name of args.servers.split(',')) {
    if (!kinds[name]) throw new Error(`--servers: unknown server ${name}`);
    const r = await bench(name, ...kinds[name]);
    console.log(line(r));
    results.push(r);
  }
  console.log(JSON.stringify({ bin: args.bin, nofile: args.nofile ?? null, idle: IDLE, slow: SLOW, results }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
