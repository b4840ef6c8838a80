import { promises as fs, statSync } from 'node:fs';
import type { Observed } from './observed.ts';
import { parseCertChain } from '../crypto/cert.ts';
import { chainProblem } from '../crypto/chain.ts';
import { describeKey, keyDetails, keyMatchesSpec, parsePrivateKey, spkiSha256, type KeyDetails, type KeySpec } from '../crypto/keys.ts';
import { readIfExists } from './atomic.ts';
import { FactsCache } from './facts-cache.ts';
import { observeIntegrity } from './integrity.ts';
import { candidateBases, certPaths, type CertPaths, type KeyType, type NamingOptions } from './layout.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

interface KeyFacts extends KeyDetails {
  spkiSha256: string;
}

interface CertFactsCached {
  spkiSha256: string;
  names: string[];
  notBefore: string;
  notAfter: string;
  certId: string | null;
  /** What is wrong with the file beyond its leaf (crypto/chain.ts), or null. */
  chain: string | null;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isDate = (v: unknown): boolean => isStr(v) && !Number.isNaN(Date.parse(v));

// A cache is read, not trusted: facts of the wrong shape are parsed again (facts-cache.ts).
function isKeyFacts(f: unknown): f is KeyFacts {
  const k = f as KeyFacts;
  return isStr(k.spkiSha256) && isStr(k.kind) && (k.bits === null || Number.isInteger(k.bits)) && (k.curve === null || isStr(k.curve));
}

function isCertFacts(f: unknown): f is CertFactsCached {
  const c = f as CertFactsCached;
  return isStr(c.spkiSha256) && Array.isArray(c.names) && c.names.every(isStr) && isDate(c.notBefore) && isDate(c.notAfter) && (c.chain === null || isStr(c.chain)) && (c.certId === null || isStr(c.certId));
}

/**
 * Facts of one file through the cache: `stat` alone when it is unchanged, else read and parse.
 * Returns null for a missing file; parse errors propagate (and are not cached).
 */
async function factsOf<T>(file: string, cache: FactsCache, parse: (text: string) => T, valid: (f: unknown) => f is T): Promise<T | null> {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return null;
  // Never read a directory or a FIFO (which would block): integrity.ts says what it is.
  if (!st.isFile()) throw new Error(st.isDirectory() ? 'is a directory' : 'is not a regular file');
  const sig = FactsCache.signature(st);
  const cached = cache.get(file, sig, valid);
  if (cached !== undefined) return cached;
  const text = await readIfExists(file);
  if (text === null) return null;
  const facts = parse(text);
  cache.set(file, sig, facts);
  return facts;
}

function keyFacts(pem: string): KeyFacts {
  const key = parsePrivateKey(pem);
  return { spkiSha256: spkiSha256(key), ...keyDetails(key) };
}

function certFacts(pem: string): CertFactsCached {
  const f = parseCertChain(pem);
  return { spkiSha256: f.spkiSha256, names: f.names, notBefore: f.notBefore.toISOString(), notAfter: f.notAfter.toISOString(), certId: f.certId, chain: chainProblem(pem) };
}

/**
 * Reads and checks the key and certificate of one certificate (not the CSR: see {@link observeCsr}),
 * the whole chain of the certificate file and, unless `inspectLinks` is false (the cache vouches
 * for them), the per-name links in `paths` (see integrity.ts).
 */
export async function observeKeyAndCert(paths: CertPaths, spec: KeySpec, cache: FactsCache, inspectLinks = true): Promise<Observed> {
  const obs: Observed = { key: { state: 'missing' }, csr: { state: 'missing' }, cert: { state: 'missing' } };
  try {
    const k = await factsOf(paths.key, cache, keyFacts, isKeyFacts);
    if (k) {
      obs.key = { state: 'ok', spkiSha256: k.spkiSha256, matchesSpec: keyMatchesSpec(k, spec), description: describeKey(k) };
    }
  } catch (err) {
    obs.key = { state: 'unreadable', error: message(err) };
  }
  let chain: string | null = null;
  try {
    const c = await factsOf(paths.cert, cache, certFacts, isCertFacts);
    if (c) obs.cert = { state: 'ok', spkiSha256: c.spkiSha256, names: c.names, notBefore: new Date(c.notBefore), notAfter: new Date(c.notAfter), certId: c.certId };
    chain = c?.chain ?? null;
  } catch (err) {
    obs.cert = { state: 'unreadable', error: message(err) };
  }
  obs.integrity = observeIntegrity(paths, obs, chain, inspectLinks);
  return obs;
}

/**
 * Reads the CSR (its `names` are those of its subjectAltName). Only needed when a certificate is due, so the nightly no-op never loads the
 * CSR parser.
 */
export async function observeCsr(paths: CertPaths): Promise<Observed['csr']> {
  const pem = await readIfExists(paths.csr);
  if (pem === null) return { state: 'missing' };
  try {
    const { parseCsr } = await import('../crypto/csr.ts');
    const facts = parseCsr(pem);
    // The SAN's names alone: a CN-only CSR (lematt's single-name ones) is remade, since CAs
    // take names from the SAN and strict ones refuse it.
    return { state: 'ok', spkiSha256: facts.spkiSha256, names: facts.sanNames };
  } catch (err) {
    return { state: 'unreadable', error: message(err) };
  }
}
