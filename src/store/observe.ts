import { promises as fs } from 'node:fs';
import type { Observed } from '../plan/renewal.ts';
import { parseCertChain } from '../crypto/cert.ts';
import { describeKey, keyMatchesSpec, parsePrivateKey, spkiHex, type KeySpec } from '../crypto/keys.ts';
import { candidateBases, certPaths, type CertPaths, type KeyType, type NamingOptions } from './layout.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A dangling per-name link or a missing file is "missing", as in lematt.
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * The paths of one certificate, adopting an existing lematt base name when lematt wrote the
 * tied SANs in another order (lematt.md §9 A7): otherwise every existing certificate whose
 * names tie would look missing and be issued again.
 */
export async function resolvePaths(names: readonly string[], keyType: KeyType, naming: NamingOptions): Promise<CertPaths> {
  const bases = candidateBases(names);
  if (bases.length > 1) {
    for (const base of bases) {
      const p = certPaths(names, keyType, naming, base);
      if ((await fs.stat(p.cert).catch(() => null)) || (await fs.stat(p.key).catch(() => null))) return p;
    }
  }
  return certPaths(names, keyType, naming, bases[0]);
}

/** Reads and checks the key and certificate of one certificate (not the CSR: see {@link observeCsr}). */
export async function observeKeyAndCert(paths: CertPaths, spec: KeySpec): Promise<Observed> {
  const obs: Observed = { key: { state: 'missing' }, csr: { state: 'missing' }, cert: { state: 'missing' } };
  const keyPem = await readText(paths.key);
  let keySpki: string | null = null;
  if (keyPem !== null) {
    try {
      const key = parsePrivateKey(keyPem);
      keySpki = spkiHex(key);
      obs.key = { state: 'ok', spkiHex: keySpki, matchesSpec: keyMatchesSpec(key, spec), description: describeKey(key) };
    } catch (err) {
      obs.key = { state: 'unreadable', error: message(err) };
    }
  }
  const certPem = await readText(paths.cert);
  if (certPem !== null) {
    try {
      const facts = parseCertChain(certPem);
      obs.cert = { state: 'ok', spkiHex: facts.spkiHex, names: facts.names, notBefore: facts.notBefore, notAfter: facts.notAfter };
    } catch (err) {
      obs.cert = { state: 'unreadable', error: message(err) };
    }
  }
  return obs;
}

/**
 * Reads the CSR. Only needed when a certificate is due, so the nightly no-op never loads the
 * CSR parser.
 */
export async function observeCsr(paths: CertPaths): Promise<Observed['csr']> {
  const pem = await readText(paths.csr);
  if (pem === null) return { state: 'missing' };
  try {
    const { parseCsr } = await import('../crypto/csr.ts');
    const facts = parseCsr(pem);
    return { state: 'ok', spkiHex: facts.spkiHex, names: facts.names };
  } catch (err) {
    return { state: 'unreadable', error: message(err) };
  }
}
