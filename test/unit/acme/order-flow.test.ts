/** validate(): each authorization's solver, settle before the CA is told, cleanup always. A stand-in client, no network. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type acme from 'acme-client';
import { validate } from '../../../src/acme/order-flow.ts';
import type { IssueRequest, Step } from '../../../src/acme/types.ts';
import type { Proof, Solver } from '../../../src/challenge/solver.ts';

type Authz = { status: string; wildcard?: boolean; identifier: { value: string }; challenges: { type: string; token: string; status: string; url: string }[] };

/**
 * A stand-in acme-client: authorizations turn valid once their challenge is answered; like
 * acme-client, it gives the key authorization for http-01 and its digest for dns-01.
 */
function standInClient(authzs: Authz[], events: string[]) {
  const client = {
    getAuthorizations: async () => authzs.map((a) => ({ ...a })),
    getChallengeKeyAuthorization: async (c: { token: string; type: string }) => (c.type === 'dns-01' ? `digest-of-ka-${c.token}` : `ka-${c.token}`),
    completeChallenge: async (c: { token: string }) => {
      events.push(`CA told ${c.token}`);
      for (const a of authzs) if (a.challenges.some((x) => x.token === c.token)) a.status = 'valid';
    },
  };
  return client as unknown as acme.Client;
}

function authz(name: string, wildcard = false): Authz {
  const t = `${wildcard ? 'w-' : ''}${name}`;
  const challenges = [{ type: 'dns-01', token: `dns-${t}`, status: 'pending', url: '' }];
  if (!wildcard) challenges.push({ type: 'http-01', token: `http-${t}`, status: 'pending', url: '' });
  return { status: 'pending', wildcard, identifier: { value: name }, challenges };
}

function recordingSolver(type: Solver['type'], events: string[], settle?: (proofs: readonly Proof[]) => Promise<void>): Solver {
  return {
    type,
    present: async (id, token) => void events.push(`present ${type} ${id} ${token}`),
    cleanup: async (id, token) => void events.push(`cleanup ${type} ${id} ${token}`),
    ...(settle ? { settle } : {}),
  };
}

const step: Step = (_what, fn) => fn();

describe('validate', () => {
  it('dns-01 for names the selector picks, http-01 for the rest; one settle per solver before the CA is told; pre-flight only for http-01', async () => {
    const events: string[] = [];
    const dns = recordingSolver('dns-01', events, async (proofs) => void events.push(`settle ${proofs.map((p) => `${p.identifier}=${p.keyAuthorization}`).join(' ')}`));
    const http = recordingSolver('http-01', events);
    const solver: Solver = { ...http, solverFor: (id) => (id.endsWith('example.net') ? dns : http) };
    const req: IssueRequest = { identifiers: [], csrPem: '', solver, beforeValidate: async (id) => void events.push(`preflight ${id}`) };
    const order = {} as acme.Order;
    await validate(standInClient([authz('example.net'), authz('example.net', true), authz('www.example.org')], events), order, req, step, Date.now() + 10_000);
    assert.deepEqual(events, [
      'present dns-01 example.net dns-example.net',
      'present dns-01 *.example.net dns-w-example.net',
      'present http-01 www.example.org http-www.example.org',
      'settle example.net=ka-dns-example.net *.example.net=ka-dns-w-example.net',
      'preflight www.example.org',
      'CA told dns-example.net',
      'CA told dns-w-example.net',
      'CA told http-www.example.org',
      'cleanup dns-01 example.net dns-example.net',
      'cleanup dns-01 *.example.net dns-w-example.net',
      'cleanup http-01 www.example.org http-www.example.org',
    ]);
  });

  it('when settle fails the CA is never told and every proof is removed', async () => {
    const events: string[] = [];
    const dns = recordingSolver('dns-01', events, async () => {
      throw new Error('dns-01 [dns:x] rfc2136: not served everywhere after 1 s');
    });
    const req: IssueRequest = { identifiers: [], csrPem: '', solver: { ...recordingSolver('http-01', events), solverFor: () => dns } };
    await assert.rejects(validate(standInClient([authz('example.net'), authz('example.net', true)], events), {} as acme.Order, req, step, Date.now() + 10_000), /not served everywhere/);
    assert.deepEqual(events, [
      'present dns-01 example.net dns-example.net',
      'present dns-01 *.example.net dns-w-example.net',
      'cleanup dns-01 example.net dns-example.net',
      'cleanup dns-01 *.example.net dns-w-example.net',
    ]);
  });

  it('a plain solver (no solverFor) answers every identifier, as before', async () => {
    const events: string[] = [];
    const req: IssueRequest = { identifiers: [], csrPem: '', solver: recordingSolver('http-01', events) };
    await validate(standInClient([authz('a.example.org')], events), {} as acme.Order, req, step, Date.now() + 10_000);
    assert.deepEqual(events, ['present http-01 a.example.org http-a.example.org', 'CA told http-a.example.org', 'cleanup http-01 a.example.org http-a.example.org']);
  });

  it('a wildcard left to http-01 fails before anything is presented', async () => {
    const events: string[] = [];
    const req: IssueRequest = { identifiers: [], csrPem: '', solver: recordingSolver('http-01', events) };
    await assert.rejects(validate(standInClient([authz('example.net', true)], events), {} as acme.Order, req, step, Date.now() + 10_000), /^Error: \*\.example\.net: the CA offers no http-01 challenge$/);
    assert.deepEqual(events, []);
  });
});
