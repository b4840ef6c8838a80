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
}
