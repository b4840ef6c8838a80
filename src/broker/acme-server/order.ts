/**
 * newOrder (RFC 8555 §7.4, `replaces` from RFC 9773 §5) and the order, authorization and
 * challenge resources. An account sees its own orders only; any other id is "no such order".
 */
import type { BrokerStore } from '../store/store.ts';
import type { BrokerOrder, DeviceAccount } from '../types.ts';
import { newId } from './account.ts';
import { readAccountRequest } from './authenticate.ts';
import { checkOrderRequest, sameIdentifiers, type OrderRequest } from './order-request.ts';
import { authorizationJson, challengeJson, orderJson, visibleStatus } from './order-view.ts';
import type { Answer, Exchange } from './options.ts';
import { AcmeProblem, malformed } from './problem.ts';

/** How long a device has to finalize a new order. */
export const ORDER_LIFETIME_MS = 7 * 86_400_000;

/** The order `id` if `account` owns it; otherwise 404, saying nothing of whether it exists. */
export async function ownOrder(store: BrokerStore, id: string, account: DeviceAccount): Promise<BrokerOrder> {
  const order = await store.getOrder(id);
  if (!order || order.account !== account.id) throw malformed('no such order', 404);
  return order;
}

/** The order answer, with Retry-After while the broker works on it. */
export function orderAnswer(x: Exchange, order: BrokerOrder, status: number, headers: Record<string, string> = {}): Answer {
  const all = { ...headers };
  if (visibleStatus(order, x.now) === 'processing') all['Retry-After'] = String(Math.max(1, Math.round(x.opts.retryAfterSeconds(order, x.now))));
  return { status, json: orderJson(order, x.urls, x.now, x.opts.profile), headers: all };
}

/**
 * Checks `replaces` against the store: a certificate brokered for this device, not yet replaced
 * by a finalized order. Throws malformed or alreadyReplaced.
 */
async function checkReplaces(store: BrokerStore, request: OrderRequest, account: DeviceAccount): Promise<void> {
  if (!request.replaces) return;
  const cert = await store.certificateByCertId(request.replaces);
  if (!cert || cert.device !== account.device) throw malformed('newOrder: "replaces" names no certificate brokered for this device');
  if (!cert.names.some((n) => request.identifiers.includes(n))) throw malformed('newOrder: the replaced certificate shares no name with this order');
  // An unfinalized replacement may be abandoned and asked again; a finalized one has taken the place.
  const accounts = [...new Set([account.id, cert.account])];
  for (const id of accounts) {
    const orders = await store.listOrders({ account: id, status: ['processing', 'valid'] });
    if (orders.some((o) => o.replaces === request.replaces)) throw new AcmeProblem('alreadyReplaced', `certificate ${request.replaces} was already replaced`);
  }
}

/** POST /acme/new-order: 201 with the new `ready` order, or a refusal. */
export async function newOrder(x: Exchange): Promise<Answer> {
  const { account, device, payload } = await readAccountRequest(x);
  const { store } = x.opts;
  const request = checkOrderRequest(payload, device.names, x.opts.profile);
  await checkReplaces(store, request, account);
  const renewal = request.replaces !== null || (await store.listCertificates({ device: device.id })).some((c) => sameIdentifiers([...c.names].sort(), request.identifiers));
  const order: BrokerOrder = {
    id: newId(),
    account: account.id,
    device: device.id,
    identifiers: request.identifiers,
    status: 'ready',
    createdAt: x.now.toISOString(),
    expiresAt: new Date(x.now.getTime() + ORDER_LIFETIME_MS).toISOString(),
    csrPem: null,
    finalizedAt: null,
    replaces: request.replaces,
    renewal,
    notBefore: null,
    lease: null,
    upstreamOrderUrl: null,
    attempts: 0,
    certificate: null,
    error: null,
  };
  await store.createOrder(order);
  return orderAnswer(x, order, 201, { Location: x.urls.order(order.id) });
}

/** POST-as-GET /acme/order/<id>. */
export async function orderResource(x: Exchange): Promise<Answer> {
  const { account } = await readAccountRequest(x);
  return orderAnswer(x, await ownOrder(x.opts.store, x.route.params[0], account), 200);
}

/** POST-as-GET /acme/acct/<id>/orders (RFC 8555 §7.1.2.1): the account's order URLs. */
export async function accountOrders(x: Exchange): Promise<Answer> {
  const { account } = await readAccountRequest(x);
  if (account.id !== x.route.params[0]) throw new AcmeProblem('unauthorized', 'an account can only list its own orders');
  const orders = await x.opts.store.listOrders({ account: account.id });
  return { status: 200, json: { orders: orders.map((o) => x.urls.order(o.id)) } };
}

async function ownName(x: Exchange): Promise<{ order: BrokerOrder; n: number }> {
  const { account } = await readAccountRequest(x);
  const order = await ownOrder(x.opts.store, x.route.params[0], account);
  const n = Number(x.route.params[1]);
  if (!(n < order.identifiers.length)) throw malformed('no such authorization', 404);
  return { order, n };
}

/** POST(-as-GET) /acme/authz/<orderId>/<n>: always valid. */
export async function authorizationResource(x: Exchange): Promise<Answer> {
  const { order, n } = await ownName(x);
  return { status: 200, json: authorizationJson(order, n, x.urls) };
}

/** POST /acme/chall/<orderId>/<n>: already valid, so responding to it changes nothing (RFC 8555 §7.5.1). */
export async function challengeResource(x: Exchange): Promise<Answer> {
  const { order, n } = await ownName(x);
  return { status: 200, json: challengeJson(order, n, x.urls), headers: { Link: `<${x.urls.authorization(order.id, n)}>;rel="up"` } };
}
