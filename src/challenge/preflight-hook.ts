/**
 * Turns `[config] preflight: yes` into the `beforeValidate` hook of an issuance: every address
 * of the identifier must serve the key authorization before the CA is asked to validate, since
 * each failed validation counts against the CA's limits.
 */
import { describePreflightFailure, preflight, type PreflightFailure } from './preflight.ts';
import type { PreflightSettings } from '../config/settings.ts';

/** Bound on one address's check (redirects and their DNS included). */
export const PREFLIGHT_TIMEOUT_MS = 10_000;

/**
 * A pre-flight that found an address the CA would fail on. The CA was not asked to validate:
 * the order's authorizations stay pending. `code` is `preflight`, which the run summary shows
 * as the errorType.
 */
export class PreflightError extends Error {
  readonly code = 'preflight';

  constructor(
    readonly identifier: string,
    readonly failures: readonly PreflightFailure[],
  ) {
    super(`pre-flight failed, the CA was not asked to validate: ${failures.map(describePreflightFailure).join('; ')}`);
    this.name = 'PreflightError';
  }
}

/** The hook's signature, as `IssueRequest.beforeValidate` takes it. */
export type BeforeValidate = (identifier: string, token: string, keyAuthorization: string) => Promise<void>;

/**
 * Returns the hook for `settings`, or undefined when pre-flight is off. The hook resolves once
 * every A/AAAA address of the identifier answered the challenge on `settings.port` (redirects
 * followed) and logs what it checked through `log`.
 * @throws PreflightError naming each failing address and what it answered (or the DNS error).
 * @throws Error `preflight: …` for a token or identifier the check cannot use.
 */
export function buildPreflightHook(settings: PreflightSettings, log: (message: string) => void): BeforeValidate | undefined {
  if (!settings.enabled) return undefined;
  return async (identifier, token, keyAuthorization) => {
    const result = await preflight({
      names: [identifier],
      token,
      keyAuthorization,
      port: settings.port,
      resolver: settings.resolver ?? undefined,
      timeoutMs: PREFLIGHT_TIMEOUT_MS,
    });
    if (!result.ok) throw new PreflightError(identifier, result.failures);
    log(`${identifier}: pre-flight ok from ${result.checked.map((c) => c.address).join(', ')}`);
  };
}
