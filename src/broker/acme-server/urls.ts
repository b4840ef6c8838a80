/**
 * The device-facing URLs: what devices are given (always `publicUrl` + a path) and which
 * endpoint a request path names. The broker may sit under a path behind a load balancer
 * (`https://lb.example/acme-broker`), so paths are matched below publicUrl's own path.
 */

/** Every URL the server hands out; ids are random and URL-safe. */
export interface AcmeUrls {
  directory: string;
  newNonce: string;
  newAccount: string;
  newOrder: string;
  renewalInfo: string;
  address: string;
  account(id: string): string;
  order(id: string): string;
  finalize(orderId: string): string;
  authorization(orderId: string, index: number): string;
  challenge(orderId: string, index: number): string;
  certificate(id: string): string;
}

/** Builds the URLs below `publicUrl` (no trailing slash). */
export function acmeUrls(publicUrl: string): AcmeUrls {
  const at = (path: string): string => `${publicUrl}${path}`;
  return {
    directory: at('/directory'),
    newNonce: at('/acme/new-nonce'),
    newAccount: at('/acme/new-account'),
    newOrder: at('/acme/new-order'),
    renewalInfo: at('/acme/renewal-info'),
    address: at('/address'),
    account: (id) => at(`/acme/acct/${id}`),
    order: (id) => at(`/acme/order/${id}`),
    finalize: (id) => at(`/acme/order/${id}/finalize`),
    authorization: (id, n) => at(`/acme/authz/${id}/${n}`),
    challenge: (id, n) => at(`/acme/chall/${id}/${n}`),
    certificate: (id) => at(`/acme/cert/${id}`),
  };
}

/** The endpoints, named after the resource they serve. */
export type Endpoint =
  | 'directory'
  | 'newNonce'
  | 'newAccount'
  | 'account'
  | 'accountOrders'
  | 'newOrder'
  | 'order'
  | 'finalize'
  | 'authorization'
  | 'challenge'
  | 'certificate'
  | 'renewalInfo'
  | 'address';

// Ids are base64url (never `.` or `..`, which a store may not take as names); CertIDs are two
// base64url parts joined by a dot (RFC 9773 §4.1). Anything else names no resource.
const SEGMENT = '([A-Za-z0-9_-]{1,64})';
const CERT_ID = '([A-Za-z0-9_-]{1,128}\\.[A-Za-z0-9_-]{1,128})';
const ROUTES: readonly [Endpoint, RegExp][] = [
  ['directory', /^\/directory$/],
  ['newNonce', /^\/acme\/new-nonce$/],
  ['newAccount', /^\/acme\/new-account$/],
  ['account', new RegExp(`^/acme/acct/${SEGMENT}$`)],
  ['accountOrders', new RegExp(`^/acme/acct/${SEGMENT}/orders$`)],
  ['newOrder', /^\/acme\/new-order$/],
  ['order', new RegExp(`^/acme/order/${SEGMENT}$`)],
  ['finalize', new RegExp(`^/acme/order/${SEGMENT}/finalize$`)],
  ['authorization', new RegExp(`^/acme/authz/${SEGMENT}/(\\d{1,3})$`)],
  ['challenge', new RegExp(`^/acme/chall/${SEGMENT}/(\\d{1,3})$`)],
  ['certificate', new RegExp(`^/acme/cert/${SEGMENT}$`)],
  ['renewalInfo', new RegExp(`^/acme/renewal-info/${CERT_ID}$`)],
  ['address', /^\/address$/],
];

/** A request matched to an endpoint: its path parameters and its URL as devices know it. */
export interface Route {
  endpoint: Endpoint;
  params: string[];
  /** publicUrl + the path below it: what a JWS `url` must say (RFC 8555 §6.4). */
  publicUrl: string;
}

/**
 * Matches the request target (query ignored) against the endpoints below publicUrl's path.
 * Returns null for anything else.
 */
export function matchRoute(publicUrl: string, target: string): Route | null {
  const base = new URL(publicUrl).pathname.replace(/\/$/, '');
  const path = target.split('?')[0];
  if (!path.startsWith(`${base}/`)) return null;
  const rest = path.slice(base.length);
  for (const [endpoint, pattern] of ROUTES) {
    const m = pattern.exec(rest);
    if (m) return { endpoint, params: m.slice(1), publicUrl: `${publicUrl}${rest}` };
  }
  return null;
}
