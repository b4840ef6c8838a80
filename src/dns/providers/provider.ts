/**
 * The two-method contract every DNS-01 provider implements (lego `challenge/provider.go`).
 * Providers only add and remove TXT records; the `_acme-challenge` name, the value, CNAME
 * delegation and the wait for propagation are done once for all of them in
 * `src/challenge/dns01.ts`.
 */
export interface DnsRecordProvider {
  /**
   * Adds the TXT record `fqdn` = `value` next to any others at that name (apex and wildcard of
   * one name need two values at once). Resolves once the provider's backend accepted it; it
   * may not be served everywhere yet. Throws an Error whose message names the zone or backend.
   */
  present(fqdn: string, value: string): Promise<void>;
  /** Removes exactly that TXT record, leaving other values alone; removing an absent one succeeds. */
  cleanup(fqdn: string, value: string): Promise<void>;
  /**
   * Optional (the broker's address updates): makes `addresses` the A and AAAA records of `fqdn`,
   * replacing whatever were there, in one change where the backend allows it. Providers that
   * cannot write address records leave it out.
   */
  setAddresses?(fqdn: string, addresses: readonly string[], ttl: number): Promise<void>;
  /**
   * Optional batching capability: adds all `records` in as few backend calls as the backend
   * allows (rfc2136: one UPDATE message per zone). All or nothing is not promised: after a throw,
   * any of them may exist, so callers retry one by one to find the culprit. Without it, callers
   * call `present` per record.
   */
  presentMany?(records: readonly TxtRecord[]): Promise<void>;
  /** Optional: `cleanup` of all `records` in as few backend calls as the backend allows. */
  cleanupMany?(records: readonly TxtRecord[]): Promise<void>;
}

/** One DNS-01 TXT record: its owner name and value. */
export interface TxtRecord {
  fqdn: string;
  value: string;
}

/**
 * A provider's failure. `code` is short and stable (`NOTAUTH`, `BADSIG`, `REFUSED`, `TIMEOUT`,
 * `exec`, `acme-dns`…) and becomes the run summary's errorType; the message never holds a secret.
 */
export class DnsProviderError extends Error {
  override name = 'DnsProviderError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
