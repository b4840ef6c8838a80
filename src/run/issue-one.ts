import { promises as fs } from 'node:fs';
import { parseCertChain } from '../crypto/cert.ts';
import { createCsrPem } from '../crypto/csr.ts';
import { generateKeyPem, parsePrivateKey, spkiSha256, type KeySpec } from '../crypto/keys.ts';
import type { PlanItem } from '../plan/build-plan.ts';
import { MODE_KEY, MODE_PUBLIC, stage } from '../store/atomic.ts';
import { PublishBlockedError, publishTogether, type Installed, type Move } from '../store/publish.ts';
import type { Issuer } from './issuer.ts';

/** What one due item needs to get its certificate. */
export interface IssueContext {
  issuer: Issuer;
  stateDir: string;
  keySpec: (item: PlanItem) => KeySpec;
  /** What installing this item's certificate owes (its deployment); goes into the publish journal. */
  owed: (item: PlanItem) => unknown;
  /** Records what is owed once the files are in place (see store/publish.ts). */
  installed: Installed;
}

/** What issuing one item did. */
export interface Published {
  notAfter: Date;
  notBefore: Date;
  serial: string;
  /** ARI CertID of the new certificate (null when it has none). */
  certId: string | null;
  /** The CertID the order named in `replaces`, when the CA took it. */
  replaced: string | null;
  warnings: string[];
}

/**
 * Gets a certificate for a due item and publishes it with its key. Key and CSR are reused when
 * the decision allows, else made new; nothing is written to the live paths until the CA's
 * certificate has been checked to be for the key and names asked for. Throws on any failure,
 * leaving the live files as they were.
 */
export async function issueOne(item: PlanItem, ctx: IssueContext, order: { replaces?: string; profile?: string } = {}): Promise<Published> {
  const { paths, decision } = item;
  const keyPem = decision.newKey ? await generateKeyPem(ctx.keySpec(item)) : await fs.readFile(paths.key, 'utf8');
  const key = parsePrivateKey(keyPem);
  const csrPem = decision.newCsr ? await createCsrPem(item.identifiers, key) : await fs.readFile(paths.csr, 'utf8');

  const { chain, replaced } = await ctx.issuer.issue({ identifiers: item.identifiers, csrPem, ...order });
  const facts = parseCertChain(chain);
  if (facts.spkiSha256 !== spkiSha256(key)) throw new Error('the CA returned a certificate for another key; not installed');
  const missing = item.identifiers.filter((n) => !facts.names.includes(n));
  if (missing.length) throw new Error(`the CA returned a certificate without ${missing.join(', ')}; not installed`);

  const moves: Move[] = [];
  try {
    if (decision.newKey) moves.push({ from: await stage(paths.key, keyPem, MODE_KEY), to: paths.key });
    if (decision.newCsr) moves.push({ from: await stage(paths.csr, csrPem, MODE_PUBLIC), to: paths.csr });
    moves.push({ from: await stage(paths.cert, chain, MODE_PUBLIC), to: paths.cert });
  } catch (err) {
    await Promise.all(moves.map((m) => fs.rm(m.from, { force: true })));
    throw err;
  }
  try {
    const warnings = await publishTogether(ctx.stateDir, { moves, links: paths.links, owed: ctx.owed(item) }, ctx.installed);
    return { notAfter: facts.notAfter, notBefore: facts.notBefore, serial: facts.serial, certId: facts.certId, replaced, warnings };
  } catch (err) {
    // Before the journal, or blocked before any move: the staged files are of no further use.
    // After a move the journal is kept and owns them; a blocked journal is removed, so nothing is lost.
    if (err instanceof PublishBlockedError) await Promise.all(moves.map((m) => fs.rm(m.from, { force: true })));
    throw err;
  }
}
