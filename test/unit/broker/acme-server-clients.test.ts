/**
 * The device-facing ACME server against the ACME clients devices run, as Debian ships them:
 * lego and certbot over HTTPS with EAB. Their authorizations are valid from the start, so their
 * DNS hooks are never asked to do anything; the worker is simulated by completing the order.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { requireBinary } from '../../support/process.ts';
import { completeOrder, enroll, spkiOf, spkiOfKey, startBroker } from './acme-server-harness.ts';

const run = promisify(execFile);

async function withBroker(fn: (ctx: { url: string; kid: string; hmac: string; caFile: string; dir: string; chainOf: () => Promise<string> }) => Promise<void>): Promise<void> {
  const broker = await startBroker({ tls: true, onFinalized: (order, store) => void completeOrder(store, order.id) });
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-acme-clients-'));
  try {
    const device = await enroll(broker.store, 'appliance', ['app.example.com', '*.app.example.com']);
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, broker.caPem!);
    const chainOf = async (): Promise<string> => {
      const [cert] = await broker.store.listCertificates({ device: 'appliance' });
      return cert.chainPem;
    };
    await fn({ url: `${broker.publicUrl}/directory`, kid: device.eabKid, hmac: device.eabHmacKey, caFile, dir, chainOf });
    assert.ok(!broker.lines.join('\n').includes(device.eabHmacKey));
  } finally {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('lego gets a certificate for a name and its wildcard', async () => {
  const lego = requireBinary('/usr/bin/lego', 'lego');
  await withBroker(async ({ url, kid, hmac, caFile, dir, chainOf }) => {
    const hook = join(dir, 'hook.sh');
    await writeFile(hook, '#!/bin/sh\necho "hook called: $*" >&2\nexit 1\n', { mode: 0o755 });
    const args = ['--path', join(dir, 'lego'), '--server', url, '--email', 'ops@example.com', '--accept-tos', '--eab', '--kid', kid, '--hmac', hmac,
      '--dns', 'exec', '--domains', 'app.example.com', '--domains', '*.app.example.com', '--key-type', 'ec256', 'run'];
    await run(lego, args, { env: { ...process.env, LEGO_CA_CERTIFICATES: caFile, EXEC_PATH: hook }, timeout: 60_000 });
    const crt = await readFile(join(dir, 'lego', 'certificates', 'app.example.com.crt'), 'utf8');
    const key = await readFile(join(dir, 'lego', 'certificates', 'app.example.com.key'), 'utf8');
    const chain = await chainOf();
    assert.equal(crt.replace(/\s/g, ''), chain.replace(/\s/g, ''), 'lego saved exactly the stored chain');
    assert.equal(spkiOf(chain), spkiOfKey(key), "the certificate holds lego's key");
  });
});

test('certbot gets a certificate with its own key', async () => {
  const certbot = requireBinary('/usr/bin/certbot', 'certbot');
  await withBroker(async ({ url, kid, hmac, caFile, dir, chainOf }) => {
    const args = ['certonly', '--non-interactive', '--config-dir', join(dir, 'etc'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs'),
      '--server', url, '--eab-kid', kid, '--eab-hmac-key', hmac, '--agree-tos', '-m', 'ops@example.com',
      '--manual', '--preferred-challenges', 'dns', '--manual-auth-hook', '/bin/false', '-d', 'app.example.com', '--key-type', 'ecdsa'];
    await run(certbot, args, { env: { ...process.env, REQUESTS_CA_BUNDLE: caFile }, timeout: 60_000 });
    const live = join(dir, 'etc', 'live', 'app.example.com');
    const fullchain = await readFile(join(live, 'fullchain.pem'), 'utf8');
    const chain = await chainOf();
    assert.equal(fullchain.replace(/\s/g, ''), chain.replace(/\s/g, ''), 'certbot saved exactly the stored chain');
    assert.equal(spkiOf(chain), spkiOfKey(await readFile(join(live, 'privkey.pem'))));
  });
});
