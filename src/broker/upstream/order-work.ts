/**
 * One device order's upstream work, under its lease: get the certificate from the CA (resuming
 * the upstream order an earlier attempt recorded), check it holds the key the device sent,
 * store it and make the order `valid`; or record the failure (retry later, or `invalid`). While
 * it works the lease is renewed; once lost, nothing more is written.
 */
import type { AcmeSession } from '../../acme/session.ts';
import { parseCertChain } from '../../crypto/cert.ts';
import { parseCsr } from '../../crypto/csr.ts';
import type { BrokerStore } from '../store/store.ts';
import type { BrokerOrder } from '../types.ts';
import type { BatchSolver } from './batch-solver.ts';
import { decideFailure, PermanentOrderError } from './failure.ts';

/** What the work of one order needs from the worker. */
export interface OrderWorkContext {
  store: BrokerStore;
  owner: string;
  now: () => Date;
  leaseMs: number;
  log: (message: string) => void;
  session: () => Promise<AcmeSession>;
  solver: BatchSolver;
  profile: string | null;
  firstBackoffMs?: number;
  /** Called once per upstream order the CA created. */
  onUpstreamOrder(): void;
}

/** How the work ended, for the stats. */
export type OrderOutcome = 'valid' | 'invalid' | 'retry' | 'lost';

class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** Works `order` (leased to `ctx.owner`) to its end; never throws. */
export async function workOrder(ctx: OrderWorkContext, order: BrokerOrder): Promise<OrderOutcome> {
  const { store, owner } = ctx;
  const subject = `order ${order.id} (${order.device}: ${order.identifiers.join(', ')})`;
  let lost = false;
  /** Renews the lease; false (and nothing more is written) once another broker holds it. */
  const renewLease = async (): Promise<boolean> => {
    const until = new Date(ctx.now().getTime() + ctx.leaseMs).toISOString();
    const kept = await store.updateOrder(order.id, { leaseOwner: owner }, { lease: { owner, until } });
    if (!kept && !lost) {
      lost = true;
      ctx.log(`${subject}: lease lost; another broker may have taken it over, so this one writes nothing more`);
    }
    return !lost;
  };
  const renew = setInterval(() => void renewLease().catch((err: Error) => ctx.log(`${subject}: lease renewal failed: ${err.message}`)), Math.max(50, ctx.leaseMs / 4));
  try {
    // The lease was taken at the claim, some time ago (budget planning, ledger writes): when it
    // has run out since, another broker (or this one's next claim) may already be working on the
    // order, and a newOrder placed now would be one too many upstream.
    if (!(await renewLease())) return 'lost';
    if (!order.csrPem) throw new PermanentOrderError('badCSR', 'the order has no CSR');
    const csrPem = order.csrPem;
    const session = await ctx.session();
    const issued = await ctx.solver.participate(() =>
      session.issue({
        identifiers: order.identifiers,
        csrPem,
        solver: ctx.solver,
        ...(order.replaces ? { replaces: order.replaces } : {}),
        ...(ctx.profile ? { profile: ctx.profile } : {}),
        ...(order.upstreamOrderUrl ? { resumeOrderUrl: order.upstreamOrderUrl } : {}),
        onOrderCreated: async (url) => {
          ctx.onUpstreamOrder();
          if (lost || !(await store.updateOrder(order.id, { leaseOwner: owner }, { upstreamOrderUrl: url }))) throw new LeaseLostError(`${subject}: lease lost`);
        },
        log: (m) => ctx.log(`${subject}: ${m}`),
      }),
    );
    // Checked again now, not only by the timer: the issuance may have been quicker than a renewal period.
    if (!(await renewLease())) return 'lost';
    const facts = parseCertChain(issued.chain);
    // A device never gets a certificate for a key it did not send.
    if (facts.spkiSha256 !== parseCsr(csrPem).spkiSha256) throw new PermanentOrderError('serverInternal', 'the CA issued a certificate for another key than the CSR holds');
    const now = ctx.now();
    await store.putCertificate({
      id: order.id,
      order: order.id,
      account: order.account,
      device: order.device,
      chainPem: issued.chain,
      certId: facts.certId ?? '',
      names: facts.names,
      notBefore: facts.notBefore.toISOString(),
      notAfter: facts.notAfter.toISOString(),
      issuedAt: now.toISOString(),
    });
    const done = await store.updateOrder(order.id, { leaseOwner: owner }, { status: 'valid', certificate: order.id, error: null, lease: null, attempts: order.attempts + 1 });
    if (!done) return 'lost';
    ctx.log(`${subject}: certificate issued, valid until ${facts.notAfter.toISOString()}`);
    return 'valid';
  } catch (err) {
    if (lost || err instanceof LeaseLostError) return 'lost';
    return recordFailure(ctx, order, err, subject);
  } finally {
    clearInterval(renew);
  }
}

async function recordFailure(ctx: OrderWorkContext, order: BrokerOrder, err: unknown, subject: string): Promise<OrderOutcome> {
  const decision = decideFailure(order, err, ctx.now(), ctx.firstBackoffMs);
  const message = err instanceof Error ? err.message : String(err);
  const expect = { leaseOwner: ctx.owner };
  try {
    if (decision.kind === 'retry') {
      ctx.log(`${subject}: attempt ${decision.attempts} failed (${decision.reason}): ${message}; next at ${decision.notBefore.toISOString()}`);
      const kept = await ctx.store.updateOrder(order.id, expect, { attempts: decision.attempts, notBefore: decision.notBefore.toISOString(), lease: null });
      return kept ? 'retry' : 'lost';
    }
    ctx.log(`${subject}: failed for good: ${decision.problem.detail}`);
    const kept = await ctx.store.updateOrder(order.id, expect, { status: 'invalid', attempts: decision.attempts, error: decision.problem, lease: null });
    return kept ? 'invalid' : 'lost';
  } catch (storeErr) {
    ctx.log(`${subject}: could not record the failure (${(storeErr as Error).message}); the lease will run out and the order be tried again`);
    return 'lost';
  }
}
