/**
 * newAccount (RFC 8555 §7.3) bound to a device through EAB, and the account resource.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { DeviceAccount } from '../types.ts';
import { readAccountRequest, readKeyRequest } from './authenticate.ts';
import { checkExternalAccountBinding } from './eab.ts';
import type { Answer, Exchange } from './options.ts';
import { AcmeProblem, malformed } from './problem.ts';

/** A new random id for accounts and orders: 128 bits in hex (safe as a file name: never a leading `-`). */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

function accountJson(x: Exchange, account: DeviceAccount): unknown {
  return { status: account.status, contact: account.contact, orders: `${x.urls.account(account.id)}/orders` };
}

function contactOf(payload: Record<string, unknown> | null): string[] {
  const contact = payload?.contact ?? [];
  if (!Array.isArray(contact) || contact.some((c) => typeof c !== 'string' || !c.startsWith('mailto:') || c.length > 320)) {
    throw new AcmeProblem('malformed', 'contact must be a list of mailto: URLs');
  }
  return contact.slice(0, 10) as string[];
}

/**
 * POST /acme/new-account: returns the existing account of this key (200) or, with a valid EAB,
 * creates one bound to its device (201). `onlyReturnExisting` never creates (RFC 8555 §7.3.1).
 */
export async function newAccount(x: Exchange): Promise<Answer> {
  const { jwk, payload } = await readKeyRequest(x);
  const { store } = x.opts;
  const thumbprint = await calculateJwkThumbprint(jwk);
  const existing = await store.accountByThumbprint(thumbprint);
  if (existing) {
    const device = await store.getDevice(existing.device);
    if (!device || device.removedAt) throw new AcmeProblem('unauthorized', 'account refused: its device is no longer enrolled');
    return { status: 200, json: accountJson(x, existing), headers: { Location: x.urls.account(existing.id) } };
  }
  if (payload?.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
  if (!payload) throw malformed('newAccount needs a payload');
  const device = await checkExternalAccountBinding(payload.externalAccountBinding, jwk, x.urls.newAccount, store);
  const candidate: DeviceAccount = {
    id: newId(),
    device: device.id,
    jwk: { ...jwk },
    thumbprint,
    contact: contactOf(payload),
    createdAt: x.now.toISOString(),
    status: 'valid',
  };
  // Two racing newAccounts with one key end with one account (the store keeps thumbprints unique).
  const { account, created } = await store.createAccount(candidate);
  if (created) x.opts.log(`account ${account.id} created for device ${device.id}`);
  return { status: created ? 201 : 200, json: accountJson(x, account), headers: { Location: x.urls.account(account.id) } };
}

/**
 * POST /acme/acct/<id>: the account itself (POST-as-GET, or an update, which changes nothing
 * here: contacts are the operator's business). Deactivation is refused: `broker remove` does it.
 */
export async function accountResource(x: Exchange): Promise<Answer> {
  const { account, payload } = await readAccountRequest(x);
  if (account.id !== x.route.params[0]) throw new AcmeProblem('unauthorized', 'an account can only read itself');
  if (payload?.status === 'deactivated') throw malformed('deactivation is not offered by this broker; ask its operator to remove the device');
  return { status: 200, json: accountJson(x, account), headers: { Location: x.urls.account(account.id) } };
}
