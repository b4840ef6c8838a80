/**
 * The broker's storage contract. Two stores fulfil it and one test suite checks both
 * (test/support/broker-store-contract.ts, run by test/integration/broker-store.test.ts): the
 * embedded default (`store: DIR`, dir-store.ts), one broker per directory, crash-safe at any
 * instant; and PostgreSQL (`store: postgres://…`, pg-store.ts), shared by several brokers
 * behind one load balancer, which split the work through leases.
 *
 * Rules every store keeps:
 * - A write that resolved is durable (fsync or COMMIT) before the promise settles.
 * - Records come back as copies: changing one changes nothing stored.
 * - `updateOrder` and `claimOrders` are atomic against other brokers on the same store.
 */
import type { BrokerCertificate, BrokerOrder, Device, DeviceAccount, LedgerEntry, OrderStatus } from '../types.ts';

/** What an `updateOrder` call expects of the stored order; any mismatch makes it a no-op returning null. */
export interface OrderExpectation {
  status?: OrderStatus;
  /** The lease owner the caller holds (null: no lease, or one that has expired at `now`). */
  leaseOwner?: string | null;
  /** Needed with `leaseOwner: null`, to tell an expired lease from a live one. */
  now?: Date;
}

/** Fields an update may set (`id`, `account`, `device` and `createdAt` never change). */
export type OrderPatch = Partial<Omit<BrokerOrder, 'id' | 'account' | 'device' | 'createdAt'>>;

export interface BrokerStore {
  /** `dir` or `postgres`, for status output. */
  readonly kind: 'dir' | 'postgres';

  /** Inserts or replaces the device (enroll, rotate, remove). */
  putDevice(device: Device): Promise<void>;
  getDevice(id: string): Promise<Device | null>;
  deviceByKid(kid: string): Promise<Device | null>;
  listDevices(): Promise<Device[]>;

  /**
   * Stores a new account unless one with the same thumbprint exists: then that one is returned
   * unchanged (newAccount with a known key finds its account, RFC 8555 §7.3.1).
   */
  createAccount(account: DeviceAccount): Promise<{ account: DeviceAccount; created: boolean }>;
  getAccount(id: string): Promise<DeviceAccount | null>;
  accountByThumbprint(thumbprint: string): Promise<DeviceAccount | null>;

  createOrder(order: BrokerOrder): Promise<void>;
  getOrder(id: string): Promise<BrokerOrder | null>;
  /** Applies `patch` when the stored order meets `expect`; the updated order, or null (missing or not as expected). */
  updateOrder(id: string, expect: OrderExpectation, patch: OrderPatch): Promise<BrokerOrder | null>;
  /** Orders of one account, or in given states; newest last. */
  listOrders(filter: { account?: string; status?: readonly OrderStatus[] }): Promise<BrokerOrder[]>;
  /**
   * Takes up to `limit` `processing` orders whose lease is absent or expired at `now` and whose
   * `notBefore` has passed, renewals first, then oldest `finalizedAt` first, and leases them to
   * `owner` until now + leaseMs. Two brokers never get the same order while a lease lives.
   */
  claimOrders(owner: string, now: Date, leaseMs: number, limit: number): Promise<BrokerOrder[]>;

  /** Stores the certificate; storing the same id again replaces it (a resumed order downloads the same one). */
  putCertificate(cert: BrokerCertificate): Promise<void>;
  getCertificate(id: string): Promise<BrokerCertificate | null>;
  certificateByCertId(certId: string): Promise<BrokerCertificate | null>;
  listCertificates(filter?: { device?: string }): Promise<BrokerCertificate[]>;

  appendLedger(entry: LedgerEntry): Promise<void>;
  /** Entries at or after `since`, oldest first. */
  ledgerSince(since: Date): Promise<LedgerEntry[]>;

  /** Remembers a one-time value (an ACME nonce) until `expiresAt`. */
  addNonce(value: string, expiresAt: Date): Promise<void>;
  /** True exactly once for a value added and not expired at `now`; it is forgotten either way. */
  takeNonce(value: string, now: Date): Promise<boolean>;

  /** Releases files, locks or connections. */
  close(): Promise<void>;
}
