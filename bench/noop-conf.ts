// The nightly no-op's conf dir, shared by bench/noop.ts and bench/exe.ts: N domains lines, each
// with a valid RSA and EC certificate issued 10 days ago, so a run finds nothing due. A complete
// store, as a run checks it: each certificate file holds its leaf and the (stand-in) intermediate
// that signed it, and multi-name lines have their per-name links. Every certificate has an ARI
// answer in the state file whose next poll is hours away.
import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { certPaths } from '../src/store/layout.ts';
import { ariCertId } from '../src/crypto/cert-id.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** A key pair in the two shapes the fixture needs: PEM for the key file, CryptoKeys for signing. */
export type Pair = { pem: string; priv: CryptoKey; pub: CryptoKey; alg: object };

/** A fresh RSA 2048 or EC P-256 key pair. */
export async function keyPair(kind: 'rsa' | 'ec'): Promise<Pair> {
  const { privateKey } = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const alg = kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const priv = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']);
  const jwk = privateKey.export({ format: 'jwk' });
  delete jwk.d;
  const pub = await webcrypto.subtle.importKey('jwk', jwk, alg, true, ['verify']);
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, priv, pub, alg };
}

/** A stand-in intermediate CA (EC P-256, self-signed: no root is checked) for the leaves. */
async function intermediate(): Promise<{ pair: Pair; cert: x509.X509Certificate; keyId: string }> {
  const pair = await keyPair('ec');
  const keyId = randomBytes(20).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=certfleet bench intermediate',
    notBefore: new Date(Date.now() - 365 * 86_400_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    keys: { privateKey: pair.priv, publicKey: pair.pub },
    signingAlgorithm: pair.alg as Algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      new x509.SubjectKeyIdentifierExtension(keyId),
    ],
  });
  return { pair, cert, keyId };
}

/**
 * A conf dir with `lines` lines, each with a valid 90-day RSA and EC certificate issued 10 days
 * ago (test/ tree) for `keys`, leaf and intermediate, with per-name links. Returns its path; the
 * caller removes it.
 */
export async function makeConf(lines: number, keys: Record<'rsa' | 'ec', Pair>): Promise<string> {
  const issuer = await intermediate();
  const dir = mkdtempSync(path.join(tmpdir(), 'certfleet-bench-'));
  const naming = { configDir: dir, mode: 'test' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
  for (const sub of ['key', 'csr', 'cert']) mkdirSync(path.join(dir, 'test', sub), { recursive: true });
  mkdirSync(path.join(dir, 'drop'));
  writeFileSync(path.join(dir, 'account.key'), keys.ec.pem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'lematt.conf'), `[config]\nchallengeDropDir: ${dir}/drop\naccountKey: ${dir}/account.key\nreauthorizeDays: 30\n`);
  writeFileSync(path.join(dir, 'actions.conf'), '[default]\n');
  const domainLines: string[] = [];
  const records: Record<string, object> = {};
  const hour = 3_600_000;
  const notBefore = new Date(Date.now() - 10 * 86_400_000);
  const notAfter = new Date(notBefore.getTime() + 90 * 86_400_000);
  for (let i = 0; i < lines; i++) {
    const names = i % 2 ? [`host${i}.example.com`] : [`site${i}.example.com`, `www.site${i}.example.com`, `mail.site${i}.example.com`];
    domainLines.push(i % 2 ? names[0] : `site${i}.example.com www mail`);
    for (const kt of ['rsa', 'ec'] as const) {
      const k = keys[kt];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (i * 2 + (kt === 'rsa' ? 1 : 2)).toString(16).padStart(4, '0'),
        subject: `CN=${names[0]}`,
        issuer: issuer.cert.subject,
        notBefore,
        notAfter,
        publicKey: k.pub,
        signingKey: issuer.pair.priv,
        signingAlgorithm: issuer.pair.alg as Algorithm,
        extensions: [
          new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
          new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
        ],
      });
      const p = certPaths(names, kt, naming);
      // Every certificate has an ARI answer whose next poll is hours away (the usual hourly run).
      const certId = ariCertId(new Uint8Array(cert.rawData));
      const start = notBefore.getTime() + 59 * 86_400_000;
      records[path.basename(p.cert)] = {
        ari: { certId, nextPoll: new Date(Date.now() + 5 * hour).toISOString(), window: { start: new Date(start).toISOString(), end: new Date(start + 2 * 86_400_000).toISOString(), renewAt: new Date(start + 86_400_000).toISOString(), explanationURL: null }, error: null },
      };
      writeFileSync(p.key, k.pem, { mode: 0o600 });
      writeFileSync(p.cert, cert.toString('pem') + '\n' + issuer.cert.toString('pem') + '\n');
      for (const link of p.links) symlinkSync(link.target, link.path);
    }
  }
  writeFileSync(path.join(dir, 'domains'), domainLines.join('\n') + '\n');
  // The state a run keeps, and a copy in which a tenth of the certificates are due for a poll.
  mkdirSync(path.join(dir, 'test', '.certfleet'), { mode: 0o700 });
  const state = (due: (i: number) => boolean) =>
    JSON.stringify({ version: 1, ledger: { orders: [], certs: [] }, certs: Object.fromEntries(Object.entries(records).map(([k, r], i) => [k, due(i) ? { ari: { ...(r as { ari: object }).ari, nextPoll: new Date(Date.now() - 60_000).toISOString() } } : r])) });
  writeFileSync(path.join(dir, 'test', '.certfleet', 'state.json'), state(() => false));
  writeFileSync(path.join(dir, 'state-tenth-due.json'), state((i) => i % 10 === 0));
  return dir;
}
