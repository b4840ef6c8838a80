/**
 * The embedded store (`store: DIR`): one JSON file per record under DIR, each replaced
 * atomically (temp file, fsync, rename, directory fsync), and the rate ledger as an append-only
 * file of JSON lines, fsynced per entry. Everything is read into memory at open; a write
 * settles only once it is on disk, so a crash at any instant leaves each record either as it
 * was or as it became, never torn. One broker per directory (a lock, held while open): leases
 * and nonces live only in that process's memory. A lease names a live worker of this process,
 * so after a crash every order is free to be taken again at once; a nonce given before a
 * restart is refused (badNonce), and ACME clients ask again.
 *
 * `broker enroll`, `remove` and `status` open the directory beside a serving broker in admin
 * mode: no lock, device writes only. So the serving broker reads devices from their files on
 * every lookup (one small file; a device's key id starts with its id), and sees an enrollment
 * or a removal at once.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODE_STATE, readIfExists, sweepTemps, writeAtomic } from '../../store/atomic.ts';
import { acquireRunLock, LockBusyError, type RunLock } from '../../store/lock.ts';
import type { BrokerCertificate, BrokerOrder, Device, DeviceAccount, LedgerEntry } from '../types.ts';
import type { BrokerStore, OrderExpectation, OrderPatch } from './store.ts';
import { queueHead, leaseLive } from './lease.ts';

const KINDS = ['devices', 'accounts', 'orders', 'certs'] as const;
type Kind = (typeof KINDS)[number];
const LEDGER = 'ledger.jsonl';

/** A store directory another broker holds, or one that cannot be used. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/** Device ids as enroll.ts allows them. */
const DEVICE_FILE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const copy = <T>(value: T): T => structuredClone(value);

/**
 * Opens (creating it, mode 0700) the store directory `dir` and takes its lock; with `admin`,
 * takes no lock and allows only device writes (see the file comment).
 */
export async function openDirStore(dir: string, opts: { admin?: boolean } = {}): Promise<BrokerStore> {
  const root = path.resolve(dir);
  try {
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
    for (const kind of KINDS) await fs.mkdir(path.join(root, kind), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreOpenError(`store ${root}: cannot create it: ${(err as Error).message}`);
  }
  let lock: RunLock = { file: '', release: async () => {} };
  try {
    if (!opts.admin) lock = await acquireRunLock(root, 0);
  } catch (err) {
    if (err instanceof LockBusyError) {
      throw new StoreOpenError(`store ${root} is in use by another broker${err.holderPid ? ` (pid ${err.holderPid})` : ''}; one broker per directory (several brokers share a postgres:// store)`);
    }
    throw new StoreOpenError(`store ${root}: ${(err as Error).message}`);
  }
  try {
    // Only the lock holder sweeps temp files: an admin open runs beside other admin commands,
    // and sweeping would delete the temp file another enroll is about to rename.
    const sweep = !opts.admin;
    const data = {
      devices: await readAll<Device>(root, 'devices', sweep),
      accounts: await readAll<DeviceAccount>(root, 'accounts', sweep),
      orders: await readAll<BrokerOrder>(root, 'orders', sweep),
      certs: await readAll<BrokerCertificate>(root, 'certs', sweep),
      ledger: await readLedger(path.join(root, LEDGER)),
    };
    return new DirStore(root, lock, data, opts.admin === true);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * Every record of a kind; a file that does not parse (never written by us whole) is an error
 * naming it. With `sweep`, temp files a crashed writer left are removed first.
 */
async function readAll<T extends { id: string }>(root: string, kind: Kind, sweep: boolean): Promise<Map<string, T>> {
  const dir = path.join(root, kind);
  if (sweep) await sweepTemps(dir);
  const map = new Map<string, T>();
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(dir, name);
    const text = await readIfExists(file);
    if (text === null) continue;
    try {
      const record = JSON.parse(text) as T;
      map.set(record.id, record);
    } catch (err) {
      throw new StoreOpenError(`store ${file}: not a record (${(err as Error).message}); move it away to start without it`);
    }
  }
  return map;
}

/** The ledger's entries; a torn last line (a crash mid-append) is left out. */
async function readLedger(file: string): Promise<LedgerEntry[]> {
  const text = (await readIfExists(file)) ?? '';
  const entries: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as LedgerEntry);
    } catch {
      // only the last line can be torn; anything else unreadable is skipped the same way
    }
  }
  return entries;
}

/** A safe file name for an id (ids are ours, [A-Za-z0-9_-]; device ids [A-Za-z0-9._-]). */
function fileName(id: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(id)) throw new Error(`store: unusable record id ${JSON.stringify(id)}`);
  return `${id}.json`;
}

class DirStore implements BrokerStore {
  readonly kind = 'dir' as const;
  private readonly devices: Map<string, Device>;
  private readonly accounts: Map<string, DeviceAccount>;
  private readonly orders: Map<string, BrokerOrder>;
  private readonly certs: Map<string, BrokerCertificate>;
  private readonly ledger: LedgerEntry[];
  private readonly nonces = new Map<string, number>();
  /** Writes of one record go out in order: a later state never lands before an earlier one. */
  private readonly writing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly lock: RunLock,
    data: { devices: Map<string, Device>; accounts: Map<string, DeviceAccount>; orders: Map<string, BrokerOrder>; certs: Map<string, BrokerCertificate>; ledger: LedgerEntry[] },
    private readonly admin: boolean,
  ) {
    this.devices = data.devices;
    this.accounts = data.accounts;
    this.orders = data.orders;
    this.certs = data.certs;
    this.ledger = data.ledger;
    // Leases are this process's; none survives a restart.
    for (const o of this.orders.values()) o.lease = null;
  }

  private persist(kind: Kind, record: { id: string }): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store: closed'));
    if (this.admin && kind !== 'devices') return Promise.reject(new Error(`store ${this.root}: opened for device changes only`));
    const file = path.join(this.root, kind, fileName(record.id));
    const onDisk = kind === 'orders' ? { ...record, lease: null } : record;
    const text = `${JSON.stringify(onDisk, null, 1)}\n`;
    const previous = this.writing.get(file) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => writeAtomic(file, text, MODE_STATE));
    this.writing.set(file, next);
    void next.finally(() => { if (this.writing.get(file) === next) this.writing.delete(file); }).catch(() => {});
    return next;
  }

  async putDevice(device: Device): Promise<void> {
    fileName(device.id);
    this.devices.set(device.id, copy(device));
    await this.persist('devices', device);
  }

  /** The device as its file holds it now (another process may have enrolled or removed it). */
  async getDevice(id: string): Promise<Device | null> {
    if (!DEVICE_FILE_ID.test(id)) return null;
    await this.writing.get(path.join(this.root, 'devices', `${id}.json`));
    const text = await readIfExists(path.join(this.root, 'devices', `${id}.json`));
    if (text === null) {
      this.devices.delete(id);
      return null;
    }
    const device = JSON.parse(text) as Device;
    this.devices.set(id, device);
    return copy(device);
  }

  async deviceByKid(kid: string): Promise<Device | null> {
    // Key ids are `<device id>.<random>` (enroll.ts).
    const dot = kid.lastIndexOf('.');
    const device = dot > 0 ? await this.getDevice(kid.slice(0, dot)) : null;
    return device && device.eabKid === kid ? device : null;
  }

  async listDevices(): Promise<Device[]> {
    const names = await fs.readdir(path.join(this.root, 'devices'));
    const ids = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));
    const devices = await Promise.all(ids.map((id) => this.getDevice(id)));
    return devices.filter((d): d is Device => d !== null).sort((a, b) => a.id.localeCompare(b.id));
  }

  async createAccount(account: DeviceAccount): Promise<{ account: DeviceAccount; created: boolean }> {
    const known = await this.accountByThumbprint(account.thumbprint);
    if (known) return { account: known, created: false };
    this.accounts.set(account.id, copy(account));
    await this.persist('accounts', account);
    return { account: copy(account), created: true };
  }

  async getAccount(id: string): Promise<DeviceAccount | null> {
    const a = this.accounts.get(id);
    return a ? copy(a) : null;
  }

  async accountByThumbprint(thumbprint: string): Promise<DeviceAccount | null> {
    for (const a of this.accounts.values()) if (a.thumbprint === thumbprint) return copy(a);
    return null;
  }

  async createOrder(order: BrokerOrder): Promise<void> {
    if (this.orders.has(order.id)) throw new Error(`store: order ${order.id} exists`);
    this.orders.set(order.id, copy(order));
    await this.persist('orders', order);
  }

  async getOrder(id: string): Promise<BrokerOrder | null> {
    const o = this.orders.get(id);
    return o ? copy(o) : null;
  }

  async updateOrder(id: string, expect: OrderExpectation, patch: OrderPatch): Promise<BrokerOrder | null> {
    const o = this.orders.get(id);
    if (!o || !meets(o, expect)) return null;
    // A field given as undefined is left alone, as in the PostgreSQL store.
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const updated: BrokerOrder = { ...o, ...copy(defined) };
    this.orders.set(id, updated);
    // Only lease changes: nothing to write (leases are not kept on disk).
    if (Object.keys(patch).some((k) => k !== 'lease')) await this.persist('orders', updated);
    return copy(updated);
  }

  async listOrders(filter: { account?: string; status?: readonly string[] }): Promise<BrokerOrder[]> {
    return [...this.orders.values()]
      .filter((o) => (!filter.account || o.account === filter.account) && (!filter.status || filter.status.includes(o.status)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(copy);
  }

  async claimOrders(owner: string, now: Date, leaseMs: number, limit: number): Promise<BrokerOrder[]> {
    const picked = queueHead([...this.orders.values()], now, limit);
    const until = new Date(now.getTime() + leaseMs).toISOString();
    return picked.map((o) => {
      o.lease = { owner, until };
      return copy(o);
    });
  }

  async putCertificate(cert: BrokerCertificate): Promise<void> {
    this.certs.set(cert.id, copy(cert));
    await this.persist('certs', cert);
  }

  async getCertificate(id: string): Promise<BrokerCertificate | null> {
    const c = this.certs.get(id);
    return c ? copy(c) : null;
  }

  async certificateByCertId(certId: string): Promise<BrokerCertificate | null> {
    for (const c of this.certs.values()) if (c.certId === certId) return copy(c);
    return null;
  }

  async listCertificates(filter: { device?: string } = {}): Promise<BrokerCertificate[]> {
    return [...this.certs.values()]
      .filter((c) => !filter.device || c.device === filter.device)
      .sort((a, b) => a.issuedAt.localeCompare(b.issuedAt))
      .map(copy);
  }

  async appendLedger(entry: LedgerEntry): Promise<void> {
    const file = path.join(this.root, LEDGER);
    const handle = await fs.open(file, 'a', MODE_STATE);
    try {
      await handle.appendFile(`${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.ledger.push(copy(entry));
  }

  async ledgerSince(since: Date): Promise<LedgerEntry[]> {
    const t = since.getTime();
    return this.ledger.filter((e) => Date.parse(e.at) >= t).sort((a, b) => a.at.localeCompare(b.at)).map(copy);
  }

  async addNonce(value: string, expiresAt: Date): Promise<void> {
    this.nonces.set(value, expiresAt.getTime());
    if (this.nonces.size > 100_000) {
      const now = Date.now();
      for (const [v, exp] of this.nonces) if (exp <= now) this.nonces.delete(v);
    }
  }

  async takeNonce(value: string, now: Date): Promise<boolean> {
    const exp = this.nonces.get(value);
    this.nonces.delete(value);
    return exp !== undefined && exp > now.getTime();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.writing.values()]);
    this.closed = true;
    await this.lock.release();
  }
}

/** Whether the stored order is as the caller expects. */
function meets(o: BrokerOrder, expect: OrderExpectation): boolean {
  if (expect.status !== undefined && o.status !== expect.status) return false;
  if (expect.leaseOwner !== undefined) {
    const live = leaseLive(o, expect.now ?? new Date());
    if (expect.leaseOwner === null ? live : !live || o.lease!.owner !== expect.leaseOwner) return false;
  }
  return true;
}
