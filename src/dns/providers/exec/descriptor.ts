/** The exec provider's keys: the user's hook and its time limit. The implementation is provider.ts. */
import type { DnsProviderDescriptor, SectionInput } from '../descriptor.ts';

/** An exec `[dns:*]` section, typed. */
export interface ExecSettings {
  kind: 'exec';
  command: string;
  timeoutSeconds: number;
}

/** Seconds an exec hook may run unless `timeout` says otherwise. */
export const DEFAULT_EXEC_TIMEOUT_S = 60;

/** A program of the user's, for every DNS service certfleet has no provider for. */
export const exec: DnsProviderDescriptor<ExecSettings> = {
  name: 'exec',
  keys: ['command', 'timeout'],
  parse,
  async load(settings) {
    const { createExecProvider } = await import('./provider.ts');
    return createExecProvider({ command: settings.command, timeoutMs: settings.timeoutSeconds * 1000 });
  },
};

function parse({ required, seconds }: SectionInput): ExecSettings | null {
  const command = required('command', 'the hook, run as: command present|cleanup FQDN VALUE');
  const timeoutSeconds = seconds('timeout', DEFAULT_EXEC_TIMEOUT_S);
  return command ? { kind: 'exec', command: command.value, timeoutSeconds } : null;
}
