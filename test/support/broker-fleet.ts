/**
 * Devices for the broker's crash and takeover tests: in-process `acme-client` clients, each
 * with its own account key and certificate key and the EAB of its enrollment, that keep going
 * while the broker behind the URL is killed and restarted (a failed request is tried again; an
 * order is driven from whatever state the broker reports). Plus the checks those tests share:
 * which key a certificate holds, and what the upstream CA (the ARI stand-in) saw per device.
 */
import { createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import acme from 'acme-client';
import { startAriStandIn, type AriStandIn } from './ari-stand-in.ts';
import { startBind } from './bind.ts';
import { enroll } from './broker.ts';
import { startTestServers } from './servers.ts';

/** One simulated device. */
export interface FleetDevice {
  id: string;
  names: string[];
  eab: { eabKid: string; eabHmacKey: string };
  accountKey: Buffer;
  certKey: Buffer;
  /** The order URL the device holds (its last newOrder that answered). */
  orderUrl: string | null;
  /** The chain it downloaded, once done. */
  chain: string | null;
  /** Requests that failed (connection refused, 502, …) and were tried again. */
  failures: number;
  /** newOrder requests that answered (more than one: an earlier answer was lost, or its order failed). */
  ordersPlaced: number;
  doneAt: number | null;
}

/**
 * Makes every acme-client request of this process trust `caPem`, give up after `timeoutMs`, and
 * not retry by itself (its own retries wait 5 s and more and hide the failures: {@link obtain} retries).
 */
export function trustBrokerCa(caPem: string, timeoutMs = 15_000): void {
  acme.axios.defaults.httpsAgent = new Agent({ ca: caPem, keepAlive: false });
  acme.axios.defaults.timeout = timeoutMs;
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
}

/** A device with fresh keys (P-256 account key, P-256 certificate key). */
export async function newDevice(id: string, names: string[], eab: { eabKid: string; eabHmacKey: string }): Promise<FleetDevice> {
  return {
    id, names, eab,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    certKey: await acme.crypto.createPrivateEcdsaKey(),
    orderUrl: null, chain: null, failures: 0, ordersPlaced: 0, doneAt: null,
  };
}

/**
 * Registers (EAB) and gets a certificate for `device.names` through `directoryUrl`, trying
 * every failed request again after `retryMs` until `deadline` (epoch ms); throws then, or when
 * the broker makes the order `invalid`. Polls a `processing` order every `pollMs`.
 */
export async function obtain(device: FleetDevice, directoryUrl: string, deadline: number, opts: { pollMs?: number; retryMs?: number } = {}): Promise<string> {
  const pollMs = opts.pollMs ?? 500;
  const retryMs = opts.retryMs ?? 300;
  const client = new acme.Client({
    directoryUrl,
    accountKey: device.accountKey,
    externalAccountBinding: { kid: device.eab.eabKid, hmacKey: device.eab.eabHmacKey },
  });
  const [, csr] = await acme.crypto.createCsr({ commonName: device.names[0], altNames: device.names }, device.certKey);
  let registered = false;
  let order: acme.Order | null = null;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (!registered) {
        // newAccount alone: it finds the account when an earlier answer was lost (200) or creates it (201).
        await (client as unknown as { api: { createAccount(data: object): Promise<unknown> } }).api.createAccount({ termsOfServiceAgreed: true });
        registered = true;
      }
      if (!order) {
        order = await client.createOrder({ identifiers: device.names.map((value) => ({ type: 'dns', value })) });
        device.orderUrl = order.url;
        device.ordersPlaced++;
      } else {
        order = await client.getOrder(order);
      }
      if (order.status === 'ready') order = { ...(await client.finalizeOrder(order, csr)), url: order.url };
      if (order.status === 'valid') {
        device.chain = await client.getCertificate(order);
        device.doneAt = Date.now();
        return device.chain;
      }
      if (order.status === 'invalid') throw new Error(`device ${device.id}: order ${order.url} is invalid: ${JSON.stringify((order as { error?: unknown }).error)}`);
      await sleep(pollMs);
    } catch (err) {
      if ((err as Error).message.startsWith(`device ${device.id}:`)) throw err;
      last = err;
      device.failures++;
      await sleep(retryMs);
    }
  }
  throw new Error(`device ${device.id}: no certificate by the deadline (order ${device.orderUrl ?? 'none'}; last error: ${(last as Error)?.message ?? 'none'})`);
}

/** DER SubjectPublicKeyInfo (hex) of a chain's leaf. */
export function leafSpki(chainPem: string): string {
  const leaf = new X509Certificate(chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25));
  return leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
}

/** DER SubjectPublicKeyInfo (hex) of a private key. */
export function keySpki(keyPem: Buffer | string): string {
  return createPublicKey(keyPem).export({ type: 'spki', format: 'der' }).toString('hex');
}

/** The id of a broker order from its URL (`…/acme/order/<id>`). */
export function orderIdOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

/** What the upstream CA saw for each device: newOrders it created (201) for its names, and distinct certificates for its key. */
export function upstreamPerDevice(standIn: AriStandIn, devices: readonly FleetDevice[]): Map<string, { newOrders: number; certificates: number }> {
  const byNames = new Map(devices.map((d) => [[...d.names].sort().join(' '), d.id]));
  const byKey = new Map(devices.map((d) => [keySpki(d.certKey), d.id]));
  const out = new Map(devices.map((d) => [d.id, { newOrders: 0, certificates: 0 }]));
  for (const o of standIn.orders) {
    if (o.status !== 201) continue;
    const id = byNames.get(o.identifiers.map((i) => i.value.toLowerCase()).sort().join(' '));
    if (id) out.get(id)!.newOrders++;
  }
  for (const c of standIn.certificates) {
    const id = byKey.get(leafSpki(c.pem));
    if (id) out.get(id)!.certificates++;
  }
  return out;
}

export { seededRandom } from './seeded-random.ts';

/** BIND serving a fresh fleet zone (TSIG updates), Pebble resolving through it, and the ARI stand-in in front of Pebble. */
export interface FleetWorld {
  zone: string;
  tsig: { name: string; algorithm: 'hmac-sha256'; secret: string };
  bindPort: number;
  standIn: AriStandIn;
  /** PEM file the broker must trust for the stand-in (its NODE_EXTRA_CA_CERTS). */
  upstreamCaPath: string;
  stop(): Promise<void>;
}

export async function startFleetWorld(): Promise<FleetWorld> {
  const zone = `fleet${randomBytes(3).toString('hex')}.example.com`;
  const tsig = { name: 'fleet-key.', algorithm: 'hmac-sha256' as const, secret: randomBytes(32).toString('base64') };
  const bind = await startBind({ tsig, zones: [{ name: zone }] });
  const stops: (() => Promise<void>)[] = [() => bind.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const servers = await startTestServers({ dnsServer: `127.0.0.1:${bind.port}` });
    stops.push(() => servers.stop());
    const standIn = await startAriStandIn(servers);
    stops.push(() => standIn.stop());
    return { zone, tsig, bindPort: bind.port, standIn, upstreamCaPath: servers.caCertPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Enrolls `count` devices `<prefix>N` for `<prefix>N.<zone>` through the CLI, a few at a time. */
export async function enrollDevices(conf: string, cwd: string, zone: string, prefix: string, count: number): Promise<FleetDevice[]> {
  const devices: FleetDevice[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => `${prefix}${i + j}`);
    devices.push(...(await Promise.all(batch.map(async (id) => newDevice(id, [`${id}.${zone}`], await enroll(conf, id, [`${id}.${zone}`], cwd))))));
  }
  return devices;
}
