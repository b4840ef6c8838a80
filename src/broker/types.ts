/**
 * What the broker keeps: devices and the names they were enrolled for, the ACME accounts devices
 * registered (bound to a device through EAB), their orders, the certificates brokered for them,
 * and the ledger of upstream orders that the rate budget paces. Plain data, the same in every
 * store (store/store.ts); times are ISO 8601 strings so that records survive JSON unchanged.
 */

/** A device enrolled with `certfleet broker enroll`. */
export interface Device {
  /** The operator's name for it (`xi8qz`): [A-Za-z0-9._-], 1–64 characters. */
  id: string;
  /** Names it may hold, lower case, no trailing dot; `*.name` only when enrolled as such. */
  names: string[];
  /** EAB key identifier (RFC 8555 §7.3.4), random, changed by every enrollment. */
  eabKid: string;
  /** EAB MAC key, base64url of 32 random bytes. A secret: never logged, never in status output. */
  eabHmacKey: string;
  enrolledAt: string;
  /** Set by `broker remove`: its accounts are refused from then on. */
  removedAt: string | null;
}

/** An ACME account a device registered through the broker (newAccount with EAB). */
export interface DeviceAccount {
  /** Random; the account URL is `<publicUrl>/acme/acct/<id>`. */
  id: string;
  device: string;
  /** The account's public JWK as the device sent it. */
  jwk: Record<string, unknown>;
  /** RFC 7638 thumbprint of `jwk`: unique across accounts (one key, one account). */
  thumbprint: string;
  contact: string[];
  createdAt: string;
  status: 'valid' | 'deactivated';
}

/**
 * A device's order. It is created `ready` (the broker proves the names upstream, so its
 * authorizations are valid from the start), becomes `processing` when the device finalizes
 * with its CSR, and `valid` (certificate stored) or `invalid` (error) once the upstream work
 * ends. Orders that were never finalized expire at `expiresAt`.
 */
export type OrderStatus = 'ready' | 'processing' | 'valid' | 'invalid';

export interface BrokerOrder {
  /** Random; the order URL is `<publicUrl>/acme/order/<id>`. */
  id: string;
  account: string;
  device: string;
  /** As the device asked for them: lower case, sorted, deduplicated. */
  identifiers: string[];
  status: OrderStatus;
  createdAt: string;
  expiresAt: string;
  /** The device's CSR (PEM), set by finalize; the broker never replaces it. */
  csrPem: string | null;
  finalizedAt: string | null;
  /** ARI CertID (RFC 9773) of the brokered certificate this order replaces, as the device named it. */
  replaces: string | null;
  /** A renewal (it replaces, or renews an identifier set brokered before): served before new work. */
  renewal: boolean;
  /** Work must not start before this moment (a budget slot or a back-off); null: at once. */
  notBefore: string | null;
  /** The broker working on it now; another may take it over once `until` has passed. */
  lease: { owner: string; until: string } | null;
  /** The upstream order, recorded as soon as the CA created it, so a takeover resumes it instead of ordering twice. */
  upstreamOrderUrl: string | null;
  /** Upstream attempts so far. */
  attempts: number;
  /** Set with `valid`: the certificate's id (equal to the order's). */
  certificate: string | null;
  /** Set with `invalid`: an ACME problem for the device. */
  error: { type: string; detail: string } | null;
}

/** A certificate the broker got for a device's order. */
export interface BrokerCertificate {
  /** Equal to the order's id, so storing it twice is harmless. */
  id: string;
  order: string;
  account: string;
  device: string;
  /** PEM, leaf first, as the CA sent it. */
  chainPem: string;
  /** ARI CertID of the leaf (base64url(AKI).base64url(serial)). */
  certId: string;
  names: string[];
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

/** One upstream order the CA counts (or does not), for the rate budget. */
export interface LedgerEntry {
  at: string;
  /** JWK thumbprint of the upstream account. */
  account: string;
  /** Registered domains (eTLD+1) of its identifiers. */
  domains: string[];
  /** Counted against new-order limits only (a renewal the CA exempts from the certificate limits). */
  exempt: boolean;
  /**
   * The device order it was placed for. An order placed again after a broker died before
   * recording the CA's order counts as another order, but it yields one certificate: the
   * certificate limit counts each device order once.
   */
  order?: string;
}
