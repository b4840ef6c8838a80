/**
 * Test support for the device-facing ACME server: the handler on 127.0.0.1 (HTTPS with a
 * throw-away CA, or plain HTTP) over a DirStore in a temp dir, devices enrolled straight into
 * the store, raw JWS requests built with jose, and a stand-in for the worker that issues a
 * certificate for the CSR's key from a test CA.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { FlattenedSign, exportJWK, type JWK } from 'jose';
import { createDeviceAcmeHandler, type DeviceAcmeOptions } from '../../../src/broker/acme-server/handler.ts';
import { openDirStore } from '../../../src/broker/store/dir-store.ts';
import type { BrokerStore } from '../../../src/broker/store/store.ts';
import type { BrokerCertificate, BrokerOrder, Device } from '../../../src/broker/types.ts';
import { ariCertId } from '../../../src/crypto/cert-id.ts';
import { startHttpServers, type RequestHandler } from '../../../src/server/http-server.ts';
import { makeCa, pemOf, type Issued } from '../../support/test-ca.ts';
import { makeTlsFiles } from '../../support/tls.ts';

const crypto = webcrypto as unknown as Crypto;

/** A running broker front end and what it called. */
export interface Broker {
  publicUrl: string;
  store: BrokerStore;
  /** The CA certificate devices must trust (HTTPS only). */
  caPem: string | null;
  finalized: BrokerOrder[];
  addressCalls: { device: string; addresses: string[] }[];
  lines: string[];
  close(): Promise<void>;
}

/** Options beyond the defaults (ARI on, no profile, setAddresses echoing the device's names). */
export interface BrokerOptions {
  tls?: boolean;
  profile?: string | null;
  onFinalized?: (order: BrokerOrder, store: BrokerStore) => void;
  /** Called after the call was recorded in `addressCalls`; by default answers the device's names. */
  setAddresses?: DeviceAcmeOptions['setAddresses'];
  renewalInfo?: DeviceAcmeOptions['renewalInfo'];
}

/** Starts the handler on an ephemeral port of 127.0.0.1 with a fresh DirStore. */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-acme-server-'));
  const store = await openDirStore(join(dir, 'store'));
  const tlsFiles = options.tls ? await makeTlsFiles(dir) : null;
  const tls = tlsFiles ? { cert: await readFile(tlsFiles.certPath), key: await readFile(tlsFiles.keyPath) } : undefined;
  const finalized: BrokerOrder[] = [];
  const addressCalls: Broker['addressCalls'] = [];
  const lines: string[] = [];
  let handler: RequestHandler = (_req, res) => void res.writeHead(503).end();
  const servers = await startHttpServers({ addresses: [{ host: '127.0.0.1', port: 0 }], handler: (req, res) => handler(req, res), log: () => {}, tls });
  const publicUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${servers.addresses[0].port}`;
  handler = createDeviceAcmeHandler({
    store,
    publicUrl,
    now: () => new Date(),
    profile: options.profile ?? null,
    ari: true,
    finalized: (order) => {
      finalized.push(order);
      options.onFinalized?.(order, store);
    },
    retryAfterSeconds: () => 1,
    renewalInfo: options.renewalInfo ?? (async () => null),
    setAddresses: async (device, addresses) => {
      addressCalls.push({ device: device.id, addresses });
      return options.setAddresses ? options.setAddresses(device, addresses) : { names: device.names };
    },
    log: (line) => lines.push(line),
  });
  return {
    publicUrl,
    store,
    caPem: tlsFiles?.caPem ?? null,
    finalized,
    addressCalls,
    lines,
    close: async () => {
      await servers.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Enrolls device `id` for `names` straight into the store. */
export async function enroll(store: BrokerStore, id: string, names: string[]): Promise<Device> {
  const device: Device = {
    id,
    names,
    eabKid: `${id}.${randomBytes(9).toString('base64url')}`,
    eabHmacKey: randomBytes(32).toString('base64url'),
    enrolledAt: new Date().toISOString(),
    removedAt: null,
  };
  await store.putDevice(device);
  return device;
}

/** An HTTP answer with its body as text and, when it is JSON, parsed. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** One request to the broker (trusting its CA over HTTPS). */
export function call(broker: Broker, method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, ca: broker.caPem ?? undefined, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (a certificate chain, or empty)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A fresh nonce from new-nonce. */
export async function nonceOf(broker: Broker): Promise<string> {
  const r = await call(broker, 'HEAD', `${broker.publicUrl}/acme/new-nonce`);
  return String(r.headers['replay-nonce']);
}

/** An account key pair for raw requests. */
export interface RawKey {
  privateKey: KeyObject;
  jwk: JWK;
  alg: string;
}

/** A new P-256 account key (ES256). */
export async function newAccountKey(): Promise<RawKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, jwk: await exportJWK(publicKey), alg: 'ES256' };
}

/** Signs `payload` (an object, or '' for POST-as-GET) into a flattened JWS. */
export async function sign(payload: unknown, header: Record<string, unknown>, key: KeyObject | Uint8Array): Promise<Record<string, string>> {
  const bytes = new TextEncoder().encode(payload === '' ? '' : JSON.stringify(payload));
  return (await new FlattenedSign(bytes).setProtectedHeader(header as { alg: string }).sign(key)) as unknown as Record<string, string>;
}

/** The EAB member for `device` binding `jwk` (RFC 8555 §7.3.4). */
export async function eabFor(broker: Broker, device: Device, jwk: JWK, hmacKey = device.eabHmacKey): Promise<Record<string, string>> {
  return sign(jwk, { alg: 'HS256', kid: device.eabKid, url: `${broker.publicUrl}/acme/new-account` }, Buffer.from(hmacKey, 'base64url'));
}

/** POSTs a JWS to `url` (a nonce fetched unless given; `kid` or `jwk` as asked). */
export async function post(
  broker: Broker,
  url: string,
  payload: unknown,
  key: RawKey,
  opts: { kid?: string; nonce?: string; url?: string; alg?: string } = {},
): Promise<Reply> {
  const header: Record<string, unknown> = { alg: opts.alg ?? key.alg, nonce: opts.nonce ?? (await nonceOf(broker)), url: opts.url ?? url };
  if (opts.kid) header.kid = opts.kid;
  else header.jwk = key.jwk;
  const jws = await sign(payload, header, key.privateKey);
  return call(broker, 'POST', url, JSON.stringify(jws), { 'content-type': 'application/jose+json' });
}

/** Registers a raw account for `device`; returns its URL. Throws unless the broker answers 201. */
export async function register(broker: Broker, device: Device, key: RawKey): Promise<string> {
  const r = await post(broker, `${broker.publicUrl}/acme/new-account`, { termsOfServiceAgreed: true, externalAccountBinding: await eabFor(broker, device, key.jwk) }, key);
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  return String(r.headers.location);
}

/** The test CA the worker stand-in issues from. */
let testCa: Promise<Issued> | null = null;

/**
 * Does what the worker does when the CA delivered: a certificate for the order's CSR key and
 * names, signed by a test CA, stored, and the order made `valid`. Returns the stored certificate.
 */
export async function completeOrder(store: BrokerStore, orderId: string): Promise<BrokerCertificate> {
  testCa ??= makeCa('CN=certfleet acme-server test CA');
  const ca = await testCa;
  const order = await store.getOrder(orderId);
  if (!order?.csrPem) throw new Error(`completeOrder: order ${orderId} has no CSR`);
  const csr = new x509.Pkcs10CertificateRequest(order.csrPem);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 90 * 86_400_000);
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      subject: `CN=${order.identifiers[0]}`,
      issuer: ca.cert.subject,
      publicKey: await csr.publicKey.export(crypto),
      signingKey: ca.keys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.SubjectAlternativeNameExtension(order.identifiers.map((value) => ({ type: 'dns' as const, value }))),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const cert: BrokerCertificate = {
    id: order.id,
    order: order.id,
    account: order.account,
    device: order.device,
    chainPem: pemOf(leaf, ca.cert),
    certId: ariCertId(new Uint8Array(leaf.rawData)),
    names: order.identifiers,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    issuedAt: new Date().toISOString(),
  };
  await store.putCertificate(cert);
  const updated = await store.updateOrder(order.id, { status: 'processing' }, { status: 'valid', certificate: cert.id });
  if (!updated) throw new Error(`completeOrder: order ${orderId} was not processing`);
  return cert;
}

/** The SPKI (DER, base64) of a PEM certificate's or CSR's public key, for comparing keys. */
export function spkiOf(pem: string): string {
  const block = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0];
  const key = block ? new x509.X509Certificate(block).publicKey : new x509.Pkcs10CertificateRequest(pem).publicKey;
  return Buffer.from(key.rawData).toString('base64');
}

/** The SPKI of a PEM private key, for comparing with {@link spkiOf}. */
export function spkiOfKey(keyPem: string | Buffer): string {
  return createPublicKey(keyPem).export({ type: 'spki', format: 'der' }).toString('base64');
}
