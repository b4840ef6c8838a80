/**
 * Certificate download (RFC 8555 §7.4.2) for the owning account, and renewalInfo (RFC 9773 §4)
 * for any client, of certificates the broker issued.
 */
import { readAccountRequest } from './authenticate.ts';
import type { Answer, Exchange } from './options.ts';
import { malformed } from './problem.ts';

/** POST-as-GET /acme/cert/<id>: the stored chain, leaf first. Other accounts get 404. */
export async function certificateResource(x: Exchange): Promise<Answer> {
  const { account } = await readAccountRequest(x);
  const cert = await x.opts.store.getCertificate(x.route.params[0]);
  if (!cert || cert.account !== account.id) throw malformed('no such certificate', 404);
  return { status: 200, text: cert.chainPem, contentType: 'application/pem-certificate-chain' };
}

/** GET /acme/renewal-info/<certId>: unauthenticated (RFC 9773 §4.3); 404 for certificates the broker did not issue. */
export async function renewalInfoResource(x: Exchange): Promise<Answer> {
  const certId = x.route.params[0];
  const cert = x.opts.ari ? await x.opts.store.certificateByCertId(certId) : null;
  const info = cert ? await x.opts.renewalInfo(certId) : null;
  if (!info) throw malformed('no renewal information for this certificate', 404);
  const headers: Record<string, string> = info.retryAfter !== null ? { 'Retry-After': String(info.retryAfter) } : {};
  return typeof info.body === 'string' ? { status: 200, text: info.body, contentType: 'application/json', headers } : { status: 200, json: info.body, headers };
}
