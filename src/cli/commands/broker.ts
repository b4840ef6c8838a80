/**
 * `certfleet broker enroll|remove|status --config broker.conf …`: the operator's side of the
 * fleet broker. `serve` is in broker-serve.ts.
 */
import { loadBrokerSettings } from '../../broker/config.ts';
import { checkNames, DEVICE_ID, enrolledDevice } from '../../broker/enroll.ts';
import type { BrokerSettings } from '../../broker/settings.ts';
import { brokerStatus, formatStatus } from '../../broker/status.ts';
import { openStore } from '../../broker/store/open.ts';
import type { BrokerStore } from '../../broker/store/store.ts';
import { ConfigError, EXIT, UsageError, type Io } from '../errors.ts';

/** broker.conf, checked completely, or a ConfigError with every problem. */
export async function loadBrokerConf(configPath: string, io: Pick<Io, 'cwd' | 'stderr'>): Promise<BrokerSettings> {
  const { settings, diagnostics } = await loadBrokerSettings({ configPath, cwd: io.cwd });
  if (!settings) throw new ConfigError(diagnostics);
  const { formatDiagnostic } = await import('../../config/diagnostics.ts');
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  return settings;
}

async function withStore<T>(settings: BrokerSettings, use: (store: BrokerStore) => Promise<T>): Promise<T> {
  const store = await openStore(settings.store, { admin: true });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `broker enroll DEVICE NAME...`: prints the EAB key id and MAC key once. */
export async function enrollCommand(flags: { config: string; json?: boolean }, id: string, names: string[], io: Io): Promise<number> {
  if (!DEVICE_ID.test(id)) throw new UsageError(`device "${id}": use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  const settings = await loadBrokerConf(flags.config, io);
  const checked = checkNames(names, settings.dns);
  if (checked.problems.length) throw new UsageError(`cannot enroll ${id}: ${checked.problems.join('; ')}`);
  const device = enrolledDevice(id, checked.names, io.now());
  const previous = await withStore(settings, async (store) => {
    const before = await store.getDevice(id);
    await store.putDevice(device);
    return before;
  });
  const action = previous ? (previous.removedAt ? 'enrolled again' : 'key rotated') : 'enrolled';
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ device: id, names: device.names, eabKid: device.eabKid, eabHmacKey: device.eabHmacKey, directory: `${settings.publicUrl}/directory`, action })}\n`);
  } else {
    io.stdout.write([
      `${id}: ${action}; names: ${device.names.join(' ')}`,
      `directory:   ${settings.publicUrl}/directory`,
      `eabKid:      ${device.eabKid}`,
      `eabHmacKey:  ${device.eabHmacKey}`,
      'The key is shown once: give both to the device now.' + (previous ? ' The previous key no longer binds new accounts.' : ''),
      '',
    ].join('\n'));
  }
  return EXIT.ok;
}

/** `broker remove DEVICE`: its accounts are refused from now on; its records stay for status. */
export async function removeCommand(flags: { config: string; json?: boolean }, id: string, io: Io): Promise<number> {
  const settings = await loadBrokerConf(flags.config, io);
  const found = await withStore(settings, async (store) => {
    const device = await store.getDevice(id);
    if (!device) return false;
    if (!device.removedAt) await store.putDevice({ ...device, removedAt: io.now().toISOString() });
    return true;
  });
  if (!found) throw new UsageError(`no device "${id}" is enrolled`);
  io.stdout.write(flags.json ? `${JSON.stringify({ device: id, removed: true })}\n` : `${id}: removed; its accounts are refused from now on\n`);
  return EXIT.ok;
}

/** `broker status`: devices, certificates, the queue and the rate budget. */
export async function statusCommand(flags: { config: string; json?: boolean }, io: Io): Promise<number> {
  const settings = await loadBrokerConf(flags.config, io);
  const now = io.now();
  const status = await withStore(settings, (store) => brokerStatus(store, settings, now));
  io.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, now));
  return EXIT.ok;
}
