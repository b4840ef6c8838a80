/**
 * finalize (RFC 8555 §7.4): the device's CSR is stored unchanged and the order becomes
 * `processing`; the worker takes it from there.
 */
import { readAccountRequest } from './authenticate.ts';
import { checkCsr } from './csr-check.ts';
import { orderAnswer, ownOrder } from './order.ts';
import { visibleStatus } from './order-view.ts';
import type { Answer, Exchange } from './options.ts';
import { AcmeProblem } from './problem.ts';

/** POST /acme/order/<id>/finalize: 200 with the `processing` order and Retry-After. */
export async function finalize(x: Exchange): Promise<Answer> {
  const { account, payload } = await readAccountRequest(x);
  const { store } = x.opts;
  const order = await ownOrder(store, x.route.params[0], account);
  const status = visibleStatus(order, x.now);
  if (status !== 'ready') throw new AcmeProblem('orderNotReady', `order is ${status === 'invalid' && order.status === 'ready' ? 'expired' : status}, not ready`);
  const csrPem = await checkCsr(payload?.csr, order.identifiers);
  const updated = await store.updateOrder(order.id, { status: 'ready' }, { status: 'processing', csrPem, finalizedAt: x.now.toISOString() });
  // Null: another finalize of the same order won the race.
  if (!updated) throw new AcmeProblem('orderNotReady', 'order was finalized already');
  x.opts.finalized(updated);
  return orderAnswer(x, updated, 200, { Location: x.urls.order(updated.id) });
}
