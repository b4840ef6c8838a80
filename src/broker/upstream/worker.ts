/**
 * The broker's upstream worker: takes finalized device orders from the store (leases, so several
 * brokers on one store share the work), paces them under the rate budget, and gets each a
 * certificate from the real CA as the broker's one account, proving names with batched DNS-01
 * through the `[dns:*]` setups. Woken by the device-facing server when an order is finalized,
 * and every few seconds anyway.
 */
import { findDnsSetup } from '../../config/dns-names.ts';
import { openAcmeSession, type AcmeSession } from '../../acme/session.ts';
import { jwkThumbprint } from '../../crypto/thumbprint.ts';
import type { BrokerSettings } from '../settings.ts';
import type { BrokerStore } from '../store/store.ts';
import type { BrokerCertificate, BrokerOrder } from '../types.ts';
import { createBatchSolver, type BatchSolver } from './batch-solver.ts';
import { reserveSlots, type BudgetSlot } from './budget-gate.ts';
import { PermanentOrderError } from './failure.ts';
import { workOrder, type OrderOutcome } from './order-work.ts';

const WEEK_MS = 7 * 24 * 3_600_000;

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  settings: BrokerSettings;
  store: BrokerStore;
  /** Unique per process (and per broker sharing the store): the lease owner. */
  owner: string;
  now?: () => Date;
  /** Progress and failures; never receives a key or secret. */
  log: (message: string) => void;
  /** PEM of the upstream account key. Never logged. */
  accountKeyPem: string;
  /** Lease length (default 120 s), renewed every quarter of it while working. */
  leaseMs?: number;
  /** Looks for work this often even when not woken (default 3000 ms). */
  pollMs?: number;
  /** First back-off of a failed attempt (default 30 s, doubling). */
  firstBackoffMs?: number;
  /** Batching knobs (batch-solver.ts); defaults suit real DNS. */
  dns?: { gatherMs?: number; maxGatherMs?: number; intervalMs?: number };
  /** Per upstream order, creation to certificate (default 10 min). */
  orderTimeoutMs?: number;
}

/** What the worker has done since it started. */
export interface WorkerStats {
  /** Orders made `valid`. */
  done: number;
  /** Orders made `invalid`. */
  failed: number;
  /** Attempts that failed and will be repeated. */
  retried: number;
  /** Orders put back with a later `notBefore` by the rate budget. */
  deferred: number;
  /** Orders the CA created (resumed ones are not counted). */
  upstreamOrders: number;
  /** DNS provider calls that wrote records (rfc2136: UPDATE messages). */
  dnsUpdateMessages: number;
  /** Propagation waits (one per batch and set of servers). */
  propagationWaits: number;
  inFlight: number;
  /** `processing` orders not being worked on, as last counted. */
  queued: number;
}

/** A running worker. */
export interface Worker {
  /** Looks for work now (after an order was finalized). */
  wake(): void;
  /** Takes no more work, waits for the orders in flight and for queued DNS removals. */
  stop(): Promise<void>;
  stats(): WorkerStats;
}

/** Starts the worker loop. Never throws; problems go to `log`. */
export function startWorker(opts: WorkerOptions): Worker {
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.leaseMs ?? 120_000;
  const account = jwkThumbprint(opts.accountKeyPem);
  const solver: BatchSolver = createBatchSolver({ setups: opts.settings.dns, log: opts.log, ...opts.dns });
  const counts = { done: 0, failed: 0, retried: 0, deferred: 0, upstreamOrders: 0, queued: 0 };
  const inFlight = new Map<string, Promise<void>>();
  let session: Promise<AcmeSession> | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let lastCount = 0;

  const getSession = () =>
    (session ??= openAcmeSession({
      directoryUrl: opts.settings.upstream,
      accountKeyPem: opts.accountKeyPem,
      contact: opts.settings.contact,
      eab: null,
      requestTimeoutMs: 30_000,
      orderTimeoutMs: opts.orderTimeoutMs ?? 600_000,
      maxRetryWaitMs: 10_000,
      log: opts.log,
    }).catch((err) => {
      session = null;
      throw err;
    }));

  const ctx = {
    store: opts.store, owner: opts.owner, now, leaseMs, log: opts.log, session: getSession, solver,
    profile: opts.settings.profile, firstBackoffMs: opts.firstBackoffMs,
    onUpstreamOrder: () => void counts.upstreamOrders++,
  };

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = tick()
      .catch((err: Error) => opts.log(`broker worker: ${err.message}`))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  async function tick(): Promise<void> {
    const free = opts.settings.parallel - inFlight.size;
    const at = now();
    if (at.getTime() - lastCount > 5000) {
      lastCount = at.getTime();
      const processing = await opts.store.listOrders({ status: ['processing'] });
      counts.queued = processing.filter((o) => !inFlight.has(o.id)).length;
    }
    if (free <= 0) return;
    // An order of ours whose lease ran out (a renewal came late) may come back: the claim has
    // renewed it, and the work in flight goes on; a second one would order it twice upstream.
    const claimed = (await opts.store.claimOrders(opts.owner, at, leaseMs, free)).filter((o) => !inFlight.has(o.id));
    if (claimed.length === 0) return;
    for (const slot of await plan(claimed, at)) {
      if (stopped || slot.at) {
        // Deferred: devices are told to come back at its slot; stopping: left for the next start.
        if (slot.at) counts.deferred++;
        await opts.store.updateOrder(slot.order.id, { leaseOwner: opts.owner }, { ...(slot.at ? { notBefore: slot.at.toISOString() } : {}), lease: null });
        continue;
      }
      // Counted before the CA is asked: a crash in between overcounts, never undercounts.
      if (slot.entry) await opts.store.appendLedger(slot.entry);
      start(slot.order);
    }
    counts.queued = Math.max(0, counts.queued - claimed.length);
  }

  /** Orders naming a name outside every `[dns:*]` zone fail at once; the others get budget slots. */
  async function plan(claimed: BrokerOrder[], at: Date): Promise<BudgetSlot[]> {
    const workable: BrokerOrder[] = [];
    for (const order of claimed) {
      const outside = order.identifiers.filter((id) => !findDnsSetup(id, opts.settings.dns));
      if (outside.length === 0) {
        workable.push(order);
        continue;
      }
      const err = new PermanentOrderError('rejectedIdentifier', `the broker proves no name outside its [dns:*] zones: ${outside.join(', ')}`);
      start(order, err);
    }
    const budgetOn = opts.settings.budget.enabled !== false;
    // Resumed orders were counted when their upstream order was placed.
    const fresh = workable.filter((o) => !o.upstreamOrderUrl);
    const ledger = budgetOn && fresh.length ? await opts.store.ledgerSince(new Date(at.getTime() - WEEK_MS)) : [];
    const replaced = new Map<string, BrokerCertificate | null>();
    for (const o of fresh) if (o.replaces && !replaced.has(o.replaces)) replaced.set(o.replaces, await opts.store.certificateByCertId(o.replaces));
    const registered = budgetOn && fresh.length ? (await import('tldts')).getDomain : () => null;
    const slots = reserveSlots({
      orders: fresh,
      ledger,
      limits: budgetOn ? { ordersPer3Hours: opts.settings.budget.ordersPer3Hours, certsPerDomainPerWeek: opts.settings.budget.certsPerDomainPerWeek } : null,
      account,
      now: at,
      registered: (n) => registered(n, { allowPrivateDomains: true }),
      replaced: (o) => (o.replaces ? (replaced.get(o.replaces) ?? null) : null),
    });
    const resumed = workable.filter((o) => o.upstreamOrderUrl).map((order) => ({ order, at: null, entry: null }));
    return [...resumed, ...slots];
  }

  /** Works the order in the background (or records `failure` at once); wakes the loop when done. */
  function start(order: BrokerOrder, failure?: Error): void {
    const run = failure ? workOrder({ ...ctx, session: () => Promise.reject(failure) }, order) : workOrder(ctx, order);
    const tracked = run
      .then((outcome: OrderOutcome) => {
        if (outcome === 'valid') counts.done++;
        else if (outcome === 'invalid') counts.failed++;
        else if (outcome === 'retry') counts.retried++;
      })
      .finally(() => {
        inFlight.delete(order.id);
        wake();
      });
    inFlight.set(order.id, tracked);
  }

  const timer = setInterval(wake, opts.pollMs ?? 3000);
  timer.unref();
  wake();

  return {
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await Promise.all(inFlight.values());
      await solver.drain();
    },
    stats: () => ({ ...counts, ...solver.counters(), inFlight: inFlight.size }),
  };
}
