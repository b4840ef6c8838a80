/**
 * DNS-01 through a program of the user's (lego `providers/dns/exec/exec.go`): for every other
 * DNS service there is. `command` runs as `command present|cleanup FQDN VALUE`, FQDN with its
 * trailing dot as lego passes it, through `/bin/sh -c` as actions do, in a process group of its
 * own with a time limit.
 */
import { runShellCommand, type CommandResult } from '../../../process/run-command.ts';
import { normalizeName } from '../../names.ts';
import { DnsProviderError, type DnsRecordProvider } from '../provider.ts';

/** Settings of the exec provider. */
export interface ExecConfig {
  /** A shell command; ` present|cleanup FQDN VALUE` is appended. */
  command: string;
  /** Per call; the process group is stopped after it. */
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL on timeout (default 5 s). */
  graceMs?: number;
}

/** Characters of the hook's output quoted in an error: its end, where the reason usually is. */
const OUTPUT_SHOWN = 2000;
// Only these reach the shell; both are checked, so quoting is belt and braces.
const SAFE_NAME = /^[A-Za-z0-9._-]+\.$/;
const SAFE_VALUE = /^[A-Za-z0-9_-]+$/;

/**
 * Creates an exec provider. Each call resolves when the command exits 0; otherwise it throws
 * DnsProviderError (code `exec`) naming the action, record, exit status or timeout, and the
 * end of what the command printed. The command also gets CERTFLEET_DNS_ACTION,
 * CERTFLEET_DNS_FQDN and CERTFLEET_DNS_VALUE in its environment.
 * @throws DnsProviderError before running anything for a name or value that is not plain.
 */
export function createExecProvider(config: ExecConfig): DnsRecordProvider {
  async function run(action: 'present' | 'cleanup', fqdn: string, value: string): Promise<void> {
    const name = `${normalizeName(fqdn)}.`;
    if (!SAFE_NAME.test(name) || !SAFE_VALUE.test(value)) {
      throw new DnsProviderError(`exec ${action} ${JSON.stringify(name)}: refusing a name or value with unexpected characters`, 'exec');
    }
    const result = await runShellCommand(`${config.command} ${action} '${name}' '${value}'`, {
      timeoutMs: config.timeoutMs,
      graceMs: config.graceMs,
      env: { CERTFLEET_DNS_ACTION: action, CERTFLEET_DNS_FQDN: name, CERTFLEET_DNS_VALUE: value },
    });
    if (result.exitCode === 0 && !result.timedOut) return;
    throw new DnsProviderError(`exec ${action} ${name}: ${describe(result, config.timeoutMs)}`, 'exec');
  }
  return {
    present: (fqdn, value) => run('present', fqdn, value),
    cleanup: (fqdn, value) => run('cleanup', fqdn, value),
  };
}

function describe(result: CommandResult, timeoutMs: number): string {
  const how = result.timedOut
    ? `no result within ${timeoutMs / 1000} s; stopped`
    : result.exitCode !== null
      ? `exit status ${result.exitCode}`
      : result.signal
        ? `killed by ${result.signal}`
        : 'could not start';
  const output = result.output.trim();
  if (output === '') return `${how}, no output`;
  const tail = output.length > OUTPUT_SHOWN ? `…${output.slice(-OUTPUT_SHOWN)}` : output;
  return `${how}; output:\n${tail}`;
}
