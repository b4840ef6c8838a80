import { setTimeout as sleep } from 'node:timers/promises';
import type acme from 'acme-client';
import { AcmeProblemError, AcmeTimeoutError } from './errors.ts';
import type { Proof, Solver } from '../challenge/solver.ts';
import type { IssueRequest, Step } from './types.ts';

type Order = acme.Order;
type Authorization = acme.Authorization;


// Polling starts soon and backs off gently: a fast CA answers within a few hundred ms, and a run
// must be bound by the CA and key generation, not by our own sleeps.
const POLL_FIRST_MS = 60;
const POLL_MAX_MS = 3000;

function checkDeadline(what: string, deadline: number, startedAt: number): void {
  if (Date.now() > deadline) throw new AcmeTimeoutError(what, Math.round((Date.now() - startedAt) / 1000));
}

function identifierOf(authz: Authorization): string {
  return authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
}

/** The error a failed authorization carries, typed, naming its identifier. */
function authzError(authz: Authorization): AcmeProblemError {
  const failed = authz.challenges.find((c) => c.status === 'invalid' && c.error) ?? authz.challenges.find((c) => c.error);
  const e = (failed?.error ?? {}) as { type?: string; detail?: string; status?: number };
  return new AcmeProblemError(
    e.type ?? 'urn:ietf:params:acme:error:unauthorized',
    e.detail ?? `authorization ${authz.status}`,
    e.status ?? 0,
    identifierOf(authz),
  );
}

/** Waits, once per solver, until the proofs it presented for this order are visible. */
async function settle(presented: readonly { solver: Solver; id: string; token: string; keyAuth: string }[]): Promise<void> {
  const bySolver = new Map<Solver, Proof[]>();
  for (const p of presented) {
    if (!p.solver.settle) continue;
    const proofs = bySolver.get(p.solver) ?? [];
    proofs.push({ identifier: p.id, token: p.token, keyAuthorization: p.keyAuth });
    bySolver.set(p.solver, proofs);
  }
  await Promise.all([...bySolver].map(([solver, proofs]) => solver.settle!(proofs)));
}

/**
 * Proves control of every identifier of `order` whose authorization is pending. Valid
 * authorizations (reused by the CA) are skipped. Each identifier gets the solver
 * `req.solver.solverFor` names (dns-01 under a `[dns:*]` zone), else `req.solver`. All proofs
 * are put in place first, each solver's `settle` is awaited (dns-01 propagation, once for all
 * records of the order), the http-01 ones are pre-flighted, then the CA is told to check them
 * all; they are all removed in `finally`, whatever happened. A cleanup failure is logged, never
 * hiding the real error.
 */
export async function validate(client: acme.Client, order: Order, req: IssueRequest, step: Step, deadline: number): Promise<void> {
  const started = Date.now();
  const authzs = await step('authorizations', () => client.getAuthorizations(order));
  const failedEarly = authzs.find((a) => a.status !== 'pending' && a.status !== 'valid');
  if (failedEarly) throw authzError(failedEarly);
  const pending: { id: string; token: string; keyAuth: string; challenge: Authorization['challenges'][number]; solver: Solver }[] = [];
  for (const authz of authzs.filter((a) => a.status === 'pending')) {
    const id = identifierOf(authz);
    const solver = req.solver.solverFor?.(id) ?? req.solver;
    const challenge = authz.challenges.find((c) => c.type === solver.type);
    if (!challenge) throw new Error(`${id}: the CA offers no ${solver.type} challenge`);
    // Solvers get the key authorization of RFC 8555 §8.1 (token.thumbprint) whatever the type;
    // acme-client hands out the TXT digest for dns-01, which the dns-01 solver computes itself.
    const keyAuth = await client.getChallengeKeyAuthorization({ ...challenge, type: 'http-01' });
    pending.push({ id, token: challenge.token, keyAuth, challenge, solver });
  }
  const presented: typeof pending = [];
  try {
    for (const p of pending) {
      await p.solver.present(p.id, p.token, p.keyAuth);
      presented.push(p);
    }
    // Through `step`, so that an interrupted run stops waiting for DNS and cleans up at once.
    await step('waiting for the proofs to be visible', () => settle(presented));
    // Checks of all names run at once (pre-flight of a 100-name line must not add up); any
    // failure stops before the CA is asked to validate anything. Pre-flight is HTTP-01's.
    const check = req.beforeValidate;
    if (check) await Promise.all(pending.filter((p) => p.solver.type === 'http-01').map((p) => check(p.id, p.token, p.keyAuth)));
    checkDeadline('validation', deadline, started);
    for (const p of pending) await step(`respond to ${p.id}`, () => client.completeChallenge(p.challenge));
    for (let delay = POLL_FIRST_MS; ; delay = Math.min(delay * 1.5, POLL_MAX_MS)) {
      checkDeadline('validation', deadline, started);
      await sleep(delay);
      const now = await step('authorizations', () => client.getAuthorizations(order));
      const bad = now.find((a) => a.status !== 'pending' && a.status !== 'valid');
      if (bad) throw authzError(bad);
      if (now.every((a) => a.status === 'valid')) return;
    }
  } finally {
    for (const p of presented) {
      await p.solver.cleanup(p.id, p.token, p.keyAuth).catch((err: Error) => req.log?.(`${p.id}: cleanup of ${p.solver.type} proof failed: ${err.message}`));
    }
  }
}

/** Waits until the order is `valid` (certificate ready) or fails, within the deadline. */
export async function pollOrder(client: acme.Client, order: Order, step: Step, deadline: number): Promise<Order> {
  const started = Date.now();
  for (let delay = POLL_FIRST_MS; ; delay = Math.min(delay * 1.5, POLL_MAX_MS)) {
    if (order.status === 'valid') return order;
    if (order.status === 'invalid') {
      const e = (order.error ?? {}) as { type?: string; detail?: string; status?: number };
      throw new AcmeProblemError(e.type ?? 'urn:ietf:params:acme:error:orderNotReady', e.detail ?? 'order became invalid', e.status ?? 0);
    }
    checkDeadline('order', deadline, started);
    await sleep(delay);
    order = await step('order status', () => client.getOrder(order));
  }
}
