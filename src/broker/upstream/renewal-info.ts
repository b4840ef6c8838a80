/**
 * ARI passed through to devices (RFC 9773): the device-facing server answers a device's
 * renewalInfo request for a certificate the broker brokered with what the upstream CA says for
 * the same CertID (the brokered certificate is the CA's), cached until the CA's Retry-After so
 * that a fleet polling does not multiply the CA's load.
 */
import { fetchDirectory, fetchRenewalInfo } from '../../acme/renewal-info.ts';
import type { BrokerStore } from '../store/store.ts';

/** A renewalInfo answer to pass on: the JSON body and the Retry-After in seconds. */
export interface RenewalInfoAnswer {
  body: { suggestedWindow: { start: string; end: string }; explanationURL?: string };
  retryAfter: number;
}

/** Options of {@link createRenewalInfo}. */
export interface RenewalInfoOptions {
  /** The upstream CA's directory URL. */
  directoryUrl: string;
  /** Only certificates found here are asked about; without it, any CertID. */
  store?: BrokerStore;
  now?: () => Date;
  timeoutMs?: number;
  /** Retry-After when the CA sent none (default 6 h, Let's Encrypt's). */
  defaultRetryAfterSeconds?: number;
}

/**
 * Creates the passthrough. `renewalInfo(certId)` resolves with the CA's answer, or null when the
 * CA offers no renewalInfo or (with `store`) the CertID is not a brokered certificate. Throws
 * RenewalInfoError when the CA could not be asked or answered an error (the device may retry).
 */
export function createRenewalInfo(opts: RenewalInfoOptions): { renewalInfo(certId: string): Promise<RenewalInfoAnswer | null> } {
  const now = opts.now ?? (() => new Date());
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const cache = new Map<string, { answer: RenewalInfoAnswer; until: number }>();
  let base: Promise<string | null> | null = null;
  const renewalBase = () =>
    (base ??= fetchDirectory(opts.directoryUrl, timeoutMs).then(
      (d) => d.renewalInfo,
      (err) => {
        base = null;
        throw err;
      },
    ));

  return {
    async renewalInfo(certId) {
      const at = now();
      const hit = cache.get(certId);
      if (hit && hit.until > at.getTime()) return { ...hit.answer, retryAfter: Math.ceil((hit.until - at.getTime()) / 1000) };
      if (opts.store && !(await opts.store.certificateByCertId(certId))) return null;
      const url = await renewalBase();
      if (!url) return null;
      const ari = await fetchRenewalInfo(url, certId, timeoutMs, at);
      const retryAfter = ari.retryAfterSeconds ?? opts.defaultRetryAfterSeconds ?? 21_600;
      const answer: RenewalInfoAnswer = {
        body: { suggestedWindow: { start: ari.start.toISOString(), end: ari.end.toISOString() }, ...(ari.explanationURL ? { explanationURL: ari.explanationURL } : {}) },
        retryAfter,
      };
      // Cache bounded: expired answers go first, then the oldest.
      if (cache.size >= 10_000) for (const [k, v] of cache) if (v.until <= at.getTime() || cache.size >= 10_000) cache.delete(k);
      cache.set(certId, { answer, until: at.getTime() + retryAfter * 1000 });
      return answer;
    },
  };
}
