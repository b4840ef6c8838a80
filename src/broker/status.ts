/**
 * `certfleet broker status`: devices, their certificates and expiry, the queue and the rate
 * budget, as a value (for `--json`) and as text. Secrets (EAB MAC keys) are never in it.
 */
import { CERT_WINDOW_MS, ORDER_WINDOW_MS } from '../plan/budget.ts';
import type { BrokerSettings } from './settings.ts';
import type { BrokerStore } from './store/store.ts';
import { queueOrder } from './store/lease.ts';
import { toLedger } from './upstream/budget-gate.ts';

export interface BrokerStatus {
  store: string;
  devices: {
    id: string;
    names: string[];
    removed: boolean;
    eabKid: string;
    certificates: number;
    /** The newest certificate's expiry, or null. */
    notAfter: string | null;
  }[];
  orders: Record<'ready' | 'processing' | 'valid' | 'invalid', number>;
  /** Processing orders in the order they will be served. */
  queue: { order: string; device: string; renewal: boolean; notBefore: string | null; attempts: number }[];
  budget: {
    enabled: boolean;
    ordersPer3Hours: { used: number; limit: number };
    certsPerDomainPerWeek: { limit: number; domains: Record<string, number> };
  };
}

/** Reads the store; `now` decides the budget windows. */
export async function brokerStatus(store: BrokerStore, settings: BrokerSettings, now: Date): Promise<BrokerStatus> {
  const [devices, certs, orders, ledger] = await Promise.all([
    store.listDevices(),
    store.listCertificates(),
    store.listOrders({}),
    store.ledgerSince(new Date(now.getTime() - CERT_WINDOW_MS)),
  ]);
  const counts = { ready: 0, processing: 0, valid: 0, invalid: 0 };
  for (const o of orders) counts[o.status]++;
  const domains: Record<string, number> = {};
  for (const c of toLedger(ledger).certs) for (const d of c.domains) domains[d] = (domains[d] ?? 0) + 1;
  return {
    store: settings.store.kind === 'dir' ? settings.store.dir : redactUrl(settings.store.url),
    devices: devices.map((d) => {
      const own = certs.filter((c) => c.device === d.id).sort((a, b) => a.notAfter.localeCompare(b.notAfter));
      return { id: d.id, names: d.names, removed: d.removedAt !== null, eabKid: d.eabKid, certificates: own.length, notAfter: own.at(-1)?.notAfter ?? null };
    }),
    orders: counts,
    queue: orders.filter((o) => o.status === 'processing').sort(queueOrder)
      .map((o) => ({ order: o.id, device: o.device, renewal: o.renewal, notBefore: o.notBefore, attempts: o.attempts })),
    budget: {
      enabled: settings.budget.enabled === true,
      ordersPer3Hours: { used: toLedger(ledger).orders.filter((o) => Date.parse(o.at) > now.getTime() - ORDER_WINDOW_MS).length, limit: settings.budget.ordersPer3Hours },
      certsPerDomainPerWeek: { limit: settings.budget.certsPerDomainPerWeek, domains },
    },
  };
}

/** A postgres:// URL without its password. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:…@');
}

/** The status as a few aligned lines for a terminal. */
export function formatStatus(s: BrokerStatus, now: Date): string {
  const lines = [`store: ${s.store}`, `devices: ${s.devices.length}${s.devices.some((d) => d.removed) ? ` (${s.devices.filter((d) => d.removed).length} removed)` : ''}`];
  for (const d of s.devices) {
    const expiry = d.notAfter ? `expires ${d.notAfter} (${Math.floor((Date.parse(d.notAfter) - now.getTime()) / 86_400_000)} days)` : 'no certificate yet';
    lines.push(`  ${d.id}${d.removed ? ' [removed]' : ''}: ${d.names.join(' ')}; ${expiry}`);
  }
  lines.push(`orders: ${s.orders.ready} ready, ${s.orders.processing} processing, ${s.orders.valid} valid, ${s.orders.invalid} invalid`);
  if (s.queue.length) {
    lines.push(`queue (served in this order):`);
    for (const q of s.queue.slice(0, 20)) lines.push(`  ${q.order} ${q.device}${q.renewal ? ' renewal' : ''}${q.notBefore ? ` not before ${q.notBefore}` : ''}${q.attempts ? `, ${q.attempts} attempt(s)` : ''}`);
    if (s.queue.length > 20) lines.push(`  … ${s.queue.length - 20} more`);
  }
  const b = s.budget;
  const top = Object.entries(b.certsPerDomainPerWeek.domains).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([d, n]) => `${d} ${n}/${b.certsPerDomainPerWeek.limit}`);
  lines.push(`rate budget${b.enabled ? '' : ' (off)'}: ${b.ordersPer3Hours.used}/${b.ordersPer3Hours.limit} orders in 3 hours; certificates this week: ${top.length ? top.join(', ') : 'none'}`);
  return `${lines.join('\n')}\n`;
}
