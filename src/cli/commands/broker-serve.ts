/** `certfleet broker serve --config broker.conf`: runs the broker in the foreground. */
import type { Io } from '../errors.ts';
import { loadBrokerConf } from './broker.ts';

export async function serveCommand(flags: { config: string }, io: Io): Promise<number> {
  const settings = await loadBrokerConf(flags.config, io);
  const { serveBroker } = await import('../../broker/serve.ts');
  return serveBroker(settings, { stderr: io.stderr, now: io.now });
}
