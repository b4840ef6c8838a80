// Issuing 50 domains lines (100 certificates: RSA 2048 + EC P-256) on a local Pebble
// (PEBBLE_VA_NOSLEEP=1, default 5% nonce rejection) with --parallel 1 and --parallel 8, against
// the time the same keys take to generate. Usage: npm run build && node --import tsx bench/issue.ts [lines]
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { generateKeyPem } from '../src/crypto/keys.ts';
import { makeConfDir, runCertfleet, startTestServers } from '../test/support/servers.ts';

const lines = Number(process.argv[2] ?? 50);
const servers = await startTestServers();
try {
  const env = { NODE_EXTRA_CA_CERTS: servers.caCertPath };
  let t = performance.now();
  for (let i = 0; i < lines; i++) {
    await generateKeyPem({ kind: 'rsa', bits: 2048 });
    await generateKeyPem({ kind: 'ec', curve: 'prime256v1' });
  }
  const keygenSerial = performance.now() - t;
  t = performance.now();
  await Promise.all(Array.from({ length: lines }, () => Promise.all([generateKeyPem({ kind: 'rsa', bits: 2048 }), generateKeyPem({ kind: 'ec', curve: 'prime256v1' })])));
  const keygenParallel = performance.now() - t;
  console.log(`key generation for ${lines * 2} keys: ${(keygenSerial / 1000).toFixed(1)} s one at a time, ${(keygenParallel / 1000).toFixed(1)} s all at once (libuv pool, ${process.env.UV_THREADPOOL_SIZE ?? 4} threads)`);
  for (const parallel of [1, 8]) {
    const tag = randomBytes(3).toString('hex');
    const domains = Array.from({ length: lines }, (_, i) => (i % 2 ? `h${i}-${tag}.example.com` : `s${i}-${tag}.example.com www`)).join('\n');
    const conf = await makeConfDir(servers, { domains });
    const start = performance.now();
    const res = await runCertfleet(['--test', '--config', conf, '--parallel', String(parallel), '--json'], { env, timeoutMs: 600_000 });
    const secs = (performance.now() - start) / 1000;
    const counts = JSON.parse(res.stdout || '{}').counts;
    if (res.code !== 0) throw new Error(`--parallel ${parallel}: exit ${res.code}\n${res.stderr.slice(-2000)}`);
    console.log(`--parallel ${parallel}: ${secs.toFixed(1)} s wall for ${lines * 2} certificates (${((secs * 1000) / (lines * 2)).toFixed(0)} ms each): ${JSON.stringify(counts)}`);
    rmSync(path.dirname(conf), { recursive: true, force: true });
  }
} finally {
  await servers.stop();
}
