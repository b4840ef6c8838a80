/**
 * The vocabulary of observation, shared by the store (which fills it) and the plan (which decides
 * on it); a leaf module, so neither imports the other for it.
 */

/** What was found on disk for one certificate's key, CSR and certificate (see observe.ts). */
export interface Observed {
  key: { state: 'missing' } | { state: 'unreadable'; error: string } | { state: 'ok'; spkiSha256: string; matchesSpec: boolean; description: string };
  csr: { state: 'missing' } | { state: 'unreadable'; error: string } | { state: 'ok'; spkiSha256: string; names: string[] };
  cert:
    | { state: 'missing' }
    | { state: 'unreadable'; error: string }
    | { state: 'ok'; spkiSha256: string; names: string[]; notBefore: Date; notAfter: Date; /** ARI CertID (RFC 9773 §4.1), null without an AKI. */ certId: string | null };
  /** Damage beyond the leaf and the key (store/integrity.ts); absent when not looked at. */
  integrity?: Integrity;
}

/** What the integrity check found for one certificate; empty fields mean nothing wrong. */
export interface Integrity {
  /**
   * Something certfleet must not replace (a directory) sits where it writes this certificate's
   * key, certificate or a per-name link: what it is and what to do. The certificate fails.
   */
  blocked: string | null;
  /** What is wrong with the certificate file beyond its leaf (see crypto/chain.ts), or null. */
  chain: string | null;
  /** Per-name links this certificate owns that are not as they must be (repaired without the CA). */
  links: LinkFinding[];
}

/** A per-name link found missing or wrong, and how it is wrong. */
export interface LinkFinding {
  /** The link's path. */
  path: string;
  /** What it must point to (a basename beside it). */
  target: string;
  /**
   * `missing`: nothing there; `elsewhere`: a link to something else (`points` says what);
   * `file`: a regular file that is no line's own (moved aside, then linked); `blocked`: a
   * directory or other non-file, left alone (the certificate fails, see {@link Integrity.blocked}).
   */
  found: 'missing' | 'elsewhere' | 'file' | 'blocked';
  points?: string;
}
