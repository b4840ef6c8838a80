/** The words the deployment plan and the actions that carry it out share. */
import type { KeyType, Mode } from '../store/layout.ts';

/**
 * A certificate issued or renewed in this run (or still owed a deployment from an earlier run).
 * One per (domains line, key type); a failed issuance is never one (lematt.md §9 A3).
 */
export interface ChangedCert {
  /** The line's names as on the domains line, CN first. */
  names: string[];
  keyType: KeyType;
  /** Absolute path of the real certificate file (not a per-name link). */
  certPath: string;
  /** Absolute path of the real key file. */
  keyPath: string;
}

/** The post-run action kinds, in the order lematt runs them within a section (lematt.md §7.2). */
export type DeployKind = 'uploadCerts' | 'uploadKeys' | 'update';

/** {@link DeployKind}s in run order. */
export const DEPLOY_KINDS: readonly DeployKind[] = ['uploadCerts', 'uploadKeys', 'update'];

/** What placeholders and environment variables are built from besides the certificates. */
export interface ActionContext {
  /** Absolute config directory (the real directory of lematt.conf). */
  configDir: string;
  /** `test` makes every path a test path (`<configDir>/test/…`), as lematt did. */
  mode: Mode;
}
