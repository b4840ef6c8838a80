import { setTimeout as sleep } from 'node:timers/promises';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey } from 'node:crypto';
import acme from 'acme-client';
import type { AxiosError, AxiosResponse } from 'axios';
import { AcmeNetworkError, AcmeProblemError, AcmeTimeoutError, parseRetryAfter } from './errors.ts';
import { pollOrder, validate } from './order-flow.ts';
import type { AcmeOptions, AcmeSession, IssueRequest, Step } from './types.ts';

export type { AcmeOptions, AcmeSession, IssueRequest, Issued } from './types.ts';

interface Problem { type: string; detail: string; status: number; retryAfter: Date | null; identifier: string | null }
const lastProblem = new AsyncLocalStorage<{ problem: Problem | null }>();
let configured = false;

/**
 * acme-client flattens errors to their `detail` text, sleeps for any Retry-After inside axios,
 * and (with its retries off) crashes on a network error in its own response interceptor, losing
 * the cause. Its axios instance is shared, so this is set once: its response interceptor is
 * replaced by ours, which hands every HTTP answer back to acme-client as it expects, keeps the
 * last problem document of the current request chain for {@link typed}, and lets network errors
 * through untouched (code and cause intact). Retries are ours ({@link openAcmeSession}).
 */
function configure(timeoutMs: number): void {
  acme.axios.defaults.timeout = timeoutMs;
  if (configured) return;
  configured = true;
  const record = (resp: AxiosResponse) => {
    const data = resp.data as { type?: unknown; detail?: unknown; identifier?: { value?: string } } | undefined;
    const store = lastProblem.getStore();
    if (store && resp.status >= 400 && data && typeof data.type === 'string') {
      store.problem = {
        type: data.type,
        detail: typeof data.detail === 'string' ? data.detail : '',
        status: resp.status,
        retryAfter: parseRetryAfter(resp.headers['retry-after'], new Date()),
        identifier: data.identifier?.value ?? null,
      };
    }
  };
  acme.axios.interceptors.response.clear();
  acme.axios.interceptors.response.use(
    (resp) => {
      record(resp);
      return resp;
    },
    (error: AxiosError) => {
      const resp = error.response;
      if (!resp) return Promise.reject(error);
      record(resp);
      // acme-client's request interceptor moved the caller's validateStatus here; none means
      // "every status is an answer", which is how its ACME calls read problems.
      const accept = (error.config as { retryValidateStatus?: ((s: number) => boolean) | null } | undefined)?.retryValidateStatus;
      return !accept || accept(resp.status) ? resp : Promise.reject(error);
    },
  );
}

/**
 * acme-client signs every request with the PEM it was given, parsing it again each time: ~0.5 ms
 * of CPU per request, over ten times the ES256 signature itself, which a broker making thousands
 * of upstream requests feels. Its HTTP client gets the key parsed once (its JWK, which it derives
 * from the PEM, is computed first). Node's sign() takes either form.
 */
function signWithParsedKey(client: acme.Client, pem: string): void {
  const http = (client as unknown as { http?: { accountKey?: unknown; getJwk?: () => unknown } }).http;
  if (!http || typeof http.getJwk !== 'function' || http.accountKey === undefined) return;
  http.getJwk();
  http.accountKey = createPrivateKey(pem);
}

/** Nonces kept for later requests; the oldest are dropped beyond this (a CA forgets them too). */
const NONCE_POOL = 64;

/**
 * acme-client asks newNonce (HEAD) before every signed request, although every answer of the CA
 * carries a fresh Replay-Nonce (RFC 8555 §7.2): twice the requests, and Pebble's HEAD answer
 * ends the kept-alive connection, so every signed request paid a new TLS handshake. The nonces
 * of answers are kept here and used first; HEAD only when none is left. The nonce of a badNonce
 * answer is not kept: acme-client retries with it itself.
 */
function reuseNonces(client: acme.Client): void {
  type Resp = { status: number; headers: Record<string, unknown>; data?: { type?: unknown } };
  const http = (client as unknown as { http?: { request?: (...a: unknown[]) => Promise<Resp>; getNonce?: () => Promise<string> } }).http;
  if (!http || typeof http.request !== 'function' || typeof http.getNonce !== 'function') return;
  const request = http.request.bind(http);
  const head = http.getNonce.bind(http);
  const pool: string[] = [];
  http.request = async (...a: unknown[]) => {
    const resp = await request(...a);
    const nonce = resp.headers['replay-nonce'];
    const badNonce = resp.status === 400 && resp.data?.type === 'urn:ietf:params:acme:error:badNonce';
    if (typeof nonce === 'string' && nonce && !badNonce) {
      pool.push(nonce);
      if (pool.length > NONCE_POOL) pool.shift();
    }
    return resp;
  };
  // head() goes through http.request above, which pools its nonce; it is taken from there.
  http.getNonce = async () => {
    if (pool.length === 0) await head();
    const nonce = pool.pop();
    if (!nonce) throw new Error('Failed to get nonce from ACME provider');
    return nonce;
  };
}

/** Turns what acme-client threw into one of our typed errors, keeping the cause. */
function typed(err: unknown, p: Problem | null): Error {
  if (err instanceof AcmeProblemError || err instanceof AcmeTimeoutError || err instanceof AcmeNetworkError) return err;
  const e = err as { isAxiosError?: boolean; code?: string; config?: { url?: string }; message?: string };
  if (e?.isAxiosError) return new AcmeNetworkError(e.config?.url ?? '?', e.code ?? 'ERR_NETWORK', err);
  const message = err instanceof Error ? err.message : String(err);
  if (p && (p.detail === '' || message.includes(p.detail.replace(/\n/g, '')))) {
    return new AcmeProblemError(p.type, p.detail || message, p.status, p.identifier, p.retryAfter);
  }
  return err instanceof Error ? err : new Error(message);
}


/**
 * Opens an account session: registers (or finds) the account for the key. Throws typed errors
 * ({@link AcmeProblemError}, {@link AcmeNetworkError}, {@link AcmeTimeoutError}).
 */
export async function openAcmeSession(opts: AcmeOptions): Promise<AcmeSession> {
  configure(opts.requestTimeoutMs);
  const client = new acme.Client({
    directoryUrl: opts.directoryUrl,
    accountKey: opts.accountKeyPem,
    externalAccountBinding: opts.eab ?? undefined,
    backoffAttempts: 1,
  });
  signWithParsedKey(client, opts.accountKeyPem);
  reuseNonces(client);

  /** Runs one ACME step, retrying what is safe to retry: transient network errors, and 429/503 whose Retry-After is short. */
  async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const seen: { problem: Problem | null } = { problem: null };
      try {
        return await lastProblem.run(seen, () => (opts.health ? opts.health.run(what, fn) : fn()));
      } catch (raw) {
        const err = typed(raw, seen.problem);
        if (opts.health?.note(err, opts.requestTimeoutMs) || attempt >= 3) throw err;
        let waitMs: number | null = null;
        if (err instanceof AcmeNetworkError && ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'].includes(err.code)) waitMs = 1000 * attempt;
        if (err instanceof AcmeProblemError && (err.status === 503 || err.status === 429 || err.status >= 500)) {
          waitMs = err.retryAfter ? err.retryAfter.getTime() - Date.now() : err.status === 429 ? null : 1000 * attempt;
        }
        if (waitMs === null || waitMs > opts.maxRetryWaitMs) throw err;
        opts.log(`${what}: ${err.message}; retrying in ${Math.ceil(Math.max(waitMs, 0) / 1000)}s`);
        await sleep(Math.max(waitMs, 0));
      }
    }
  }
  return createSession(client, opts, step);
}

function createSession(client: acme.Client, opts: AcmeOptions, step: Step): AcmeSession {
  // acme-client's createAccount() answers an existing account (HTTP 200) with an update carrying
  // only termsOfServiceAgreed, which CAs reject as an empty update; newAccount alone finds or
  // creates the account and records its URL, which is all we need.
  const api = (client as unknown as { api: { createAccount(data: object): Promise<unknown> } }).api;
  let account: Promise<unknown> | null = null;
  const ensureAccount = () =>
    (account ??= step('account', () =>
      api.createAccount({ termsOfServiceAgreed: true, ...(opts.contact.length ? { contact: opts.contact } : {}) }),
    ).catch((err) => {
      account = null;
      throw err;
    }));

  /** newOrder with `replaces` and `profile` when asked; a rejection about `replaces` is tried once more without it. */
  async function newOrder(req: IssueRequest): Promise<{ order: acme.Order; replaced: string | null }> {
    const base = { identifiers: req.identifiers.map((value) => ({ type: 'dns', value })), ...(req.profile ? { profile: req.profile } : {}) };
    if (req.replaces) {
      try {
        return { order: await step('new order', () => client.createOrder({ ...base, replaces: req.replaces } as Parameters<acme.Client['createOrder']>[0])), replaced: req.replaces };
      } catch (err) {
        if (!rejectsReplaces(err)) throw err;
        req.log?.(`the CA refused replaces=${req.replaces} (${(err as Error).message}); ordering without it`);
      }
    }
    return { order: await step('new order', () => client.createOrder(base as Parameters<acme.Client['createOrder']>[0])), replaced: null };
  }

  /**
   * The order at `url` when it can still lead to a certificate for these identifiers; null
   * (logged) when it is invalid, gone (404), not this account's (403) or for other identifiers.
   */
  async function resume(req: IssueRequest, url: string): Promise<acme.Order | null> {
    const log = req.log ?? opts.log;
    try {
      const order = await step('resume order', () => client.getOrder({ url } as acme.Order));
      const names = (order.identifiers ?? []).map((i) => i.value.toLowerCase()).sort();
      const wanted = req.identifiers.map((i) => i.toLowerCase()).sort();
      if (order.status === 'invalid') log(`order ${url} is invalid; placing a new order`);
      else if (names.join(' ') !== wanted.join(' ')) log(`order ${url} is for ${names.join(', ')}, not ${wanted.join(', ')}; placing a new order`);
      else return order;
    } catch (err) {
      if (!(err instanceof AcmeProblemError) || (err.status !== 404 && err.status !== 403)) throw err;
      log(`order ${url} cannot be resumed (${err.message}); placing a new order`);
    }
    return null;
  }

  return {
    async issue(req) {
      await ensureAccount();
      const deadline = Date.now() + opts.orderTimeoutMs;
      const resumed = req.resumeOrderUrl ? await resume(req, req.resumeOrderUrl) : null;
      let order: acme.Order;
      let replaced: string | null;
      if (resumed) {
        order = resumed;
        const named = (resumed as { replaces?: unknown }).replaces;
        replaced = typeof named === 'string' ? named : null;
      } else {
        ({ order, replaced } = await newOrder(req));
        await req.onOrderCreated?.(order.url);
      }
      if (order.status === 'pending') await validate(client, order, req, step, deadline);
      if (order.status === 'pending' || order.status === 'ready') {
        order = await step('finalize', () => client.finalizeOrder(order, req.csrPem));
      }
      order = await pollOrder(client, order, step, deadline);
      return { chain: await step('download certificate', () => client.getCertificate(order)), replaced };
    },
  };
}

/**
 * A refusal of the `replaces` field (RFC 9773 §5): `alreadyReplaced`, or a 400/403/409 whose
 * detail names it (CAs differ in the type they use).
 */
export function rejectsReplaces(err: unknown): boolean {
  if (!(err instanceof AcmeProblemError)) return false;
  if (err.shortType === 'alreadyReplaced') return true;
  return [400, 403, 409].includes(err.status) && /replace/i.test(err.detail);
}
