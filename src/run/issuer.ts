/**
 * The Issuer: "a chain for these identifiers and this CSR", with everything a CA needs wired in
 * once per run (account session, challenge solvers, pre-flight). The cron run asks it for lematt
 * lines; a broker can ask it for devices' CSRs. ACME code is loaded only when one is created.
 */
import type { Issued } from '../acme/types.ts';
import { dropDirSolver } from '../challenge/http01.ts';
import type { BeforeValidate } from '../challenge/preflight-hook.ts';
import type { Settings } from '../config/settings.ts';
import type { CaHealth } from '../acme/ca-health.ts';
import type { ArtifactJournal } from '../challenge/artifact-journal.ts';
import type { Mode } from '../store/layout.ts';

export type { Issued } from '../acme/types.ts';

/** One request to the Issuer. */
export interface IssueOrder {
  identifiers: string[];
  csrPem: string;
  /** ARI CertID of the certificate this one replaces (same directory and account only). */
  replaces?: string;
  profile?: string;
}

/** Gets certificates from one CA as one account. */
export interface Issuer {
  /** The directory URL orders go to. */
  readonly directory: string;
  /** JWK thumbprint of the account key: with the directory, what decides whether `replaces` may be sent. */
  readonly account: string;
  /** Orders, proves, finalizes; the PEM chain as the CA sent it. Throws typed ACME errors. */
  issue(order: IssueOrder): Promise<Issued>;
}

/** What {@link createIssuer} needs. */
export interface IssuerOptions {
  settings: Settings;
  mode: Mode;
  directoryUrl: string;
  accountKeyPem: string;
  /** Called for each http-01 challenge before the CA is asked to validate it (prepare wait, pre-flight). */
  beforeValidate?: BeforeValidate;
  /** Progress (info) and problems that do not fail an order (warn). */
  info: (message: string) => void;
  warn: (message: string) => void;
  /** Per CA request (default 30 s). */
  requestTimeoutMs?: number;
  /** The run's CA deadline and abort signal. */
  health?: CaHealth;
  /** Where challenge proofs are recorded before they are created. */
  artifacts?: ArtifactJournal;
}

/** Registers or finds the account and wires the solvers. Throws what the CA or network answered. */
export async function createIssuer(opts: IssuerOptions): Promise<Issuer> {
  const { settings } = opts;
  const [{ openAcmeSession }, { selectSolver }, { jwkThumbprint }] = await Promise.all([
    import('../acme/session.ts'),
    import('../challenge/select.ts'),
    import('../crypto/thumbprint.ts'),
  ]);
  const session = await openAcmeSession({
    directoryUrl: opts.directoryUrl,
    accountKeyPem: opts.accountKeyPem,
    contact: settings.acme[opts.mode].contact,
    eab: settings.acme[opts.mode].eab,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    orderTimeoutMs: 300_000,
    maxRetryWaitMs: 10_000,
    log: opts.info,
    health: opts.health,
  });
  const solver = selectSolver(dropDirSolver(settings.challengeDropDir, opts.artifacts), settings.dns, opts.info, opts.artifacts);
  const { beforeValidate } = opts;
  return {
    directory: opts.directoryUrl,
    account: jwkThumbprint(opts.accountKeyPem),
    issue: (order) => session.issue({ ...order, solver, beforeValidate, log: opts.warn }),
  };
}
