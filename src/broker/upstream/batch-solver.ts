/**
 * DNS-01 for many device orders at once: the dns-01 solver of src/challenge/dns01.ts (names,
 * values, CNAME delegation, messages), with its providers and its propagation wait replaced by
 * a gathering layer. `present` only queues a record; the orders' `settle` calls that arrive
 * together (within a short window, or as soon as every order working has arrived) form one
 * batch: its records are written in one provider call per setup and one propagation wait covers
 * them all. Each order is answered on its own: it goes on as soon as its own records are served,
 * and fails alone when one of its records could not be written or did not appear.
 * Removals are queued and written together shortly after.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DnsSetup } from '../../config/dns.ts';
import { createDns01Solver, type Dns01Setup } from '../../challenge/dns01.ts';
import { runtimeSetup } from '../../challenge/select.ts';
import type { Solver } from '../../challenge/solver.ts';
import { createProvider } from '../../dns/providers/registry.ts';
import type { DnsRecordProvider } from '../../dns/providers/provider.ts';
import type { PropagationOptions } from '../../dns/zone.ts';
import { RecordWriter } from './record-writer.ts';
import { waitTogether, type PropagationWaiter } from './shared-propagation.ts';

/** What the batching layer counts, for the worker's stats. */
export interface BatchCounters {
  /** Provider calls that wrote records (rfc2136: UPDATE messages, one per zone of a batch). */
  dnsUpdateMessages: number;
  /** Propagation waits, one per batch and set of servers checked. */
  propagationWaits: number;
}

/** Options of {@link createBatchSolver}. */
export interface BatchSolverOptions {
  setups: readonly DnsSetup[];
  log: (message: string) => void;
  /** A batch closes this long after its last arrival (default 200 ms)… */
  gatherMs?: number;
  /** …or this long after its first (default 2000 ms), or once every participant has arrived. */
  maxGatherMs?: number;
  /** Pause between propagation checks (default 1000 ms). */
  intervalMs?: number;
  /** Removals are written this long after the last one queued (default 300 ms). */
  removalDelayMs?: number;
  /** Replaces the provider of every setup (tests). */
  provider?: (setup: DnsSetup) => Promise<DnsRecordProvider>;
}

/** The batching dns-01 solver. */
export interface BatchSolver extends Solver {
  /** Runs one order's upstream work as a participant: a batch closes early once every participant has settled or left. */
  participate<T>(fn: () => Promise<T>): Promise<T>;
  counters(): BatchCounters;
  /** Writes the removals still queued; resolves when they are done. */
  drain(): Promise<void>;
}

/** Creates the batching solver over the `[dns:*]` setups. Never throws; providers load on first use. */
export function createBatchSolver(opts: BatchSolverOptions): BatchSolver {
  const counters: BatchCounters = { dnsUpdateMessages: 0, propagationWaits: 0 };
  const count = (n: number) => void (counters.dnsUpdateMessages += n);
  const writers = new Map<Dns01Setup['label'], RecordWriter>();
  const setups = opts.setups.map((setup) => {
    const runtime = runtimeSetup(setup);
    let made: Promise<DnsRecordProvider> | undefined;
    const writer = new RecordWriter(() => (made ??= (opts.provider ?? createProvider)(setup.provider as never)), count);
    writers.set(runtime.label, writer);
    const deferred: DnsRecordProvider = {
      present: async (fqdn, value) => writer.add(fqdn, value),
      cleanup: async (fqdn, value) => {
        writer.remove(fqdn, value);
        scheduleRemovals();
      },
    };
    return { ...runtime, provider: deferred };
  });

  const participants = new Map<number, { arrived: boolean }>();
  const current = new AsyncLocalStorage<number>();
  let nextId = 0;
  let waiting: PropagationWaiter[] = [];
  let firstArrival = 0;
  let timer: NodeJS.Timeout | undefined;

  function scheduleFlush(): void {
    if (waiting.length === 0) return;
    clearTimeout(timer);
    const everyone = [...participants.values()].every((p) => p.arrived);
    // A settle of one order may arrive as several calls in one tick (one per setup): 5 ms lets them join.
    const delay = everyone ? 5 : Math.max(0, Math.min(opts.gatherMs ?? 200, firstArrival + (opts.maxGatherMs ?? 2000) - Date.now()));
    timer = setTimeout(() => void flush(), delay);
  }

  async function flush(): Promise<void> {
    const batch = waiting;
    waiting = [];
    await Promise.all([...writers.values()].filter((w) => w.hasAdds).map((w) => w.flushAdds()));
    const ready: PropagationWaiter[] = [];
    for (const w of batch) {
      const failed = w.records.flatMap((r) => [...writers.values()].map((writer) => writer.outcome(r.name, r.value))).find((e) => e);
      if (failed) w.reject(failed);
      else ready.push(w);
    }
    counters.propagationWaits += await waitTogether(ready, opts.intervalMs ?? 1000);
  }

  let removalTimer: NodeJS.Timeout | undefined;
  let removing: Promise<void> = Promise.resolve();
  function scheduleRemovals(): void {
    clearTimeout(removalTimer);
    removalTimer = setTimeout(() => void flushRemovals(), opts.removalDelayMs ?? 300);
  }
  function flushRemovals(): Promise<void> {
    removing = removing.then(async () => {
      for (const [label, writer] of writers) {
        for (const e of await writer.flushRemovals()) opts.log(`dns-01 ${label}: a TXT record may stay behind: ${e.message}`);
      }
    });
    return removing;
  }

  const solver = createDns01Solver({
    setups,
    log: opts.log,
    intervalMs: opts.intervalMs ?? 1000,
    lookups: {
      // dns01.ts calls this once per setup and set of servers of one order's settle.
      waitForPropagation: (p: PropagationOptions) =>
        new Promise<void>((resolve, reject) => {
          const id = current.getStore();
          const me = id === undefined ? undefined : participants.get(id);
          if (me) me.arrived = true;
          if (waiting.length === 0) firstArrival = Date.now();
          waiting.push({ ...p, resolve, reject });
          scheduleFlush();
        }),
    },
  });

  return {
    ...solver,
    async participate(fn) {
      const id = ++nextId;
      participants.set(id, { arrived: false });
      try {
        return await current.run(id, fn);
      } finally {
        participants.delete(id);
        scheduleFlush();
      }
    },
    counters: () => ({ ...counters }),
    async drain() {
      clearTimeout(removalTimer);
      await flushRemovals();
    },
  };
}
