/**
 * The device side of address updates (`certfleet address`): one request to the broker, signed
 * with the device's enrollment key (HS256 JWS, as EAB) over a fresh nonce of the broker's, so
 * a recorded request cannot be played again.
 */
import { FlattenedSign } from 'jose';

/** The broker refused or could not be asked; the message says which and why. */
export class AddressError extends Error {
  override name = 'AddressError';
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

export interface AddressRequest {
  /** The broker's directory URL, or its public URL (then `/directory` is added). */
  broker: string;
  kid: string;
  /** base64url, as `broker enroll` printed it. */
  hmacKey: string;
  addresses: string[];
  timeoutMs?: number;
}

export interface AddressResult {
  device: string;
  names: string[];
  addresses: string[];
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new AddressError(`${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, null);
  }
}

/** The directory URL for `broker`. */
export function directoryUrlOf(broker: string): string {
  const url = new URL(broker);
  return url.pathname.endsWith('/directory') ? url.href : `${url.href.replace(/\/+$/, '')}/directory`;
}

/** Sends the update; one more try when the nonce was refused (it may have expired). */
export async function sendAddresses(req: AddressRequest): Promise<AddressResult> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  const dirUrl = directoryUrlOf(req.broker);
  const dirResp = await call(dirUrl, {}, timeoutMs);
  if (!dirResp.ok) throw new AddressError(`${dirUrl}: HTTP ${dirResp.status}`, dirResp.status);
  const dir = (await dirResp.json().catch(() => null)) as { newNonce?: unknown; certfleetAddresses?: unknown } | null;
  if (typeof dir?.newNonce !== 'string' || typeof dir.certfleetAddresses !== 'string') {
    throw new AddressError(`${dirUrl}: not a certfleet broker's directory (no certfleetAddresses)`, null);
  }
  const target = dir.certfleetAddresses;
  const key = Buffer.from(req.hmacKey, 'base64url');
  let nonce = (await call(dir.newNonce, { method: 'HEAD' }, timeoutMs)).headers.get('replay-nonce');
  for (let attempt = 1; ; attempt++) {
    if (!nonce) throw new AddressError(`${dir.newNonce}: no Replay-Nonce`, null);
    const jws = await new FlattenedSign(new TextEncoder().encode(JSON.stringify({ addresses: req.addresses })))
      .setProtectedHeader({ alg: 'HS256', kid: req.kid, nonce, url: target })
      .sign(key);
    const resp = await call(target, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws) }, timeoutMs);
    const body = (await resp.json().catch(() => null)) as (AddressResult & { type?: string; detail?: string }) | null;
    if (resp.ok && body && Array.isArray(body.names)) return { device: body.device, names: body.names, addresses: body.addresses };
    if (body?.type === 'urn:ietf:params:acme:error:badNonce' && attempt < 2) {
      nonce = resp.headers.get('replay-nonce');
      continue;
    }
    throw new AddressError(`the broker refused: ${body?.detail ?? `HTTP ${resp.status}`}`, resp.status);
  }
}
