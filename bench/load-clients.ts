// Loopback clients for bench/challenge-load.ts: hostile connection holders (idle and slow-header)
// and good challenge requests with their latency. Every socket talks to 127.0.0.1 only.
import { connect, type Socket } from 'node:net';

/** What a holder does once connected: nothing (`idle`), or drips headers it never finishes (`slow`). */
export type HolderKind = 'idle' | 'slow';

/** A set of connections kept open against one port, reopened when the server closes them. */
export interface Holders {
  /** Sockets connected right now. */
  open(): number;
  /** Connections the server closed (timeout, eviction, refusal) and the holders reopened. */
  reopened(): number;
  stop(): void;
}

/** One byte of header every `dripMs` keeps a slow-header socket from looking idle. */
const DRIP_MS = 1_000;

/**
 * Keeps `count` connections of `kind` open. A connection the server closes is reopened, after a
 * back-off that doubles (100 ms up to 2 s) while the server keeps closing new ones at once, so a
 * refusing server sees a persistent attacker, not a busy loop.
 */
export function holdConnections(port: number, kind: HolderKind, count: number): Holders {
  let open = 0;
  let reopened = 0;
  let stopped = false;
  const sockets = new Set<Socket>();
  const one = (backoffMs: number): void => {
    if (stopped) return;
    const socket = connect({ host: '127.0.0.1', port });
    sockets.add(socket);
    let connectedAt = 0;
    let drip: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      open++;
      connectedAt = Date.now();
      if (kind === 'slow') {
        socket.write('GET /.well-known/acme-challenge/slow HTTP/1.1\r\nHost: bench.example\r\n');
        drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), DRIP_MS);
      }
    });
    socket.on('data', () => {}); // a 408 or 400 the server sends before closing
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (drip) clearInterval(drip);
      if (connectedAt) open--;
      if (stopped) return;
      reopened++;
      const lived = connectedAt ? Date.now() - connectedAt : 0;
      const next = lived > 1_000 ? 100 : Math.min(backoffMs * 2, 2_000);
      setTimeout(() => one(next), next).unref();
    });
  };
  for (let i = 0; i < count; i++) one(50);
  return {
    open: () => open,
    reopened: () => reopened,
    stop: () => {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The outcome of one good request. */
export interface Outcome {
  ok: boolean;
  /** From connect() to the complete answer (or to the failure). */
  ms: number;
  /** `ok`, `status <n>`, `closed unanswered`, `timeout`, or an error code such as ECONNRESET. */
  how: string;
}

/**
 * Sends one challenge request on a fresh connection (as a CA does) and waits for the server to
 * answer and close. `expect` checks the status line and body of the raw answer.
 */
export function goodRequest(port: number, token: string, expect: (raw: string) => boolean, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (how: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: how === 'ok', ms: performance.now() - started, how });
    };
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET /.well-known/acme-challenge/${token} HTTP/1.1\r\nHost: bench.example\r\nConnection: close\r\n\r\n`);
    });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      if (raw === '') return finish('closed unanswered');
      finish(expect(raw) ? 'ok' : `status ${raw.slice(9, 12)}`);
    });
  });
}

/** Share answered, share answered within 1 s, latency percentiles of answered ones, failure kinds. */
export interface Summary {
  sent: number;
  answered: number;
  answeredShare: number;
  within1sShare: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  failures: Record<string, number>;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

/** Summarises outcomes; percentiles are over answered requests only. */
export function summarise(outcomes: readonly Outcome[]): Summary {
  const answered = outcomes.filter((o) => o.ok).map((o) => o.ms).sort((a, b) => a - b);
  const failures: Record<string, number> = {};
  for (const o of outcomes) if (!o.ok) failures[o.how] = (failures[o.how] ?? 0) + 1;
  const share = (n: number): number => Math.round((n / Math.max(1, outcomes.length)) * 1000) / 1000;
  return {
    sent: outcomes.length,
    answered: answered.length,
    answeredShare: share(answered.length),
    within1sShare: share(answered.filter((ms) => ms <= 1_000).length),
    p50Ms: percentile(answered, 50),
    p99Ms: percentile(answered, 99),
    maxMs: answered.length ? Math.round(answered[answered.length - 1]) : null,
    failures,
  };
}
