// The nightly no-op: N domains lines (2N certificates) with nothing due. Times the built binary
// under --cron against a bare `node -e 0`, checks it prints nothing and exits 0, and shows how the
// cost grows with N. No network: the directory URL points at a closed loopback port, so any
// request would fail the run. Usage: npm run build && npm run bench [-- 100 1000]
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { certPaths } from '../src/store/layout.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const BIN = path.resolve(import.meta.dirname, '../bin/certfleet');
const RUNS = 7;

type Pair = { pem: string; priv: CryptoKey; pub: CryptoKey; alg: object };
async function keyPair(kind: 'rsa' | 'ec'): Promise<Pair> {
  const { privateKey } = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const alg = kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const priv = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']);
  const jwk = privateKey.export({ format: 'jwk' });
  delete jwk.d;
  const pub = await webcrypto.subtle.importKey('jwk', jwk, alg, true, ['verify']);
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, priv, pub, alg };
}

/** A conf dir with `lines` lines, each with a valid 90-day RSA and EC certificate issued 10 days ago. */
async function makeConf(lines: number, keys: Record<'rsa' | 'ec', Pair>): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certfleet-bench-'));
  const naming = { configDir: dir, mode: 'test' as const, rsaTag: 'rsa2048', curveTag: 'prime256v1' };
  for (const sub of ['key', 'csr', 'cert']) mkdirSync(path.join(dir, 'test', sub), { recursive: true });
  mkdirSync(path.join(dir, 'drop'));
  writeFileSync(path.join(dir, 'account.key'), keys.ec.pem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'lematt.conf'), `[config]\nchallengeDropDir: ${dir}/drop\naccountKey: ${dir}/account.key\nreauthorizeDays: 30\n`);
  writeFileSync(path.join(dir, 'actions.conf'), '[default]\n');
  const domainLines: string[] = [];
  const notBefore = new Date(Date.now() - 10 * 86_400_000);
  const notAfter = new Date(notBefore.getTime() + 90 * 86_400_000);
  for (let i = 0; i < lines; i++) {
    const names = i % 2 ? [`host${i}.example.com`] : [`site${i}.example.com`, `www.site${i}.example.com`, `mail.site${i}.example.com`];
    domainLines.push(i % 2 ? names[0] : `site${i}.example.com www mail`);
    for (const kt of ['rsa', 'ec'] as const) {
      const k = keys[kt];
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (i * 2 + (kt === 'rsa' ? 1 : 2)).toString(16).padStart(4, '0'),
        name: `CN=${names[0]}`,
        notBefore,
        notAfter,
        keys: { privateKey: k.priv, publicKey: k.pub },
        signingAlgorithm: k.alg as Algorithm,
        extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
      });
      const p = certPaths(names, kt, naming);
      writeFileSync(p.key, k.pem, { mode: 0o600 });
      writeFileSync(p.cert, cert.toString('pem') + '\n');
    }
  }
  writeFileSync(path.join(dir, 'domains'), domainLines.join('\n') + '\n');
  return dir;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(cmd: string, args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0 || r.stdout !== '' || r.stderr !== '') throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}, output ${JSON.stringify(r.stdout + r.stderr).slice(0, 300)}`);
  }
  return median(samples);
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const keys = { rsa: await keyPair('rsa'), ec: await keyPair('ec') };
const baseline = time(process.execPath, ['-e', '0']);
console.log(`node -e 0: ${baseline.toFixed(0)} ms (median of ${RUNS}); node ${process.version}`);
for (const lines of sizes.length ? sizes : [100, 250, 500, 1000]) {
  const dir = await makeConf(lines, keys);
  try {
    const ms = time(BIN, ['--test', '--cron', '--config', path.join(dir, 'lematt.conf'), '--directory', 'https://127.0.0.1:9/dir']);
    console.log(`${String(lines).padStart(5)} lines (${lines * 2} certificates): ${ms.toFixed(0)} ms = ${(ms / baseline).toFixed(1)}x node -e 0, ${((ms - baseline) / (lines * 2) * 1000).toFixed(0)} µs per certificate above baseline; output empty, exit 0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
