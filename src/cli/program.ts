import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import type { Io } from './errors.ts';
import { versionLine } from './version.ts';

/** The package version; `--version` prints it with the commit and the Node.js (versionLine). */
export const VERSION: string = pkg.version;

const CONFIG_HELP = "path of lematt.conf; domains and actions.conf sit beside it";

/**
 * Wires flags to lazily imported commands. Each action stores its exit code in `result`;
 * nothing here exits or prints errors (main.ts is the one error boundary).
 */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('certfleet')
    .description('Keeps TLS certificates valid across many domains and hosts; reads lematt\'s conf/ unchanged.')
    .version(versionLine(VERSION), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(see certfleet --help)');

  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const modeOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--test', "use Let's Encrypt staging and the test/ tree").conflicts('prod'))
      .addOption(new Option('--prod', "use Let's Encrypt production and the prod/ tree"))
      .option('--config <path>', CONFIG_HELP, 'conf/lematt.conf');

  modeOptions(program.command('run', { isDefault: true }).description('issue and renew every certificate that is due (the lematt job)'))
    .option('--parallel <n>', 'orders in flight at once', undefined)
    .option('--cron', 'print nothing unless something changed or failed')
    .option('--directory <url>', 'ACME directory URL (overrides lematt.conf and the mode default)')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('--dry-run', 'show what would be requested and run, without requesting, writing or running anything')
    .option('--only <name>', 'look only at the lines holding this name (repeatable)', collect)
    .option('--force', 'renew the selected lines now, whatever the rules say (not before a rateLimited Retry-After)')
    .option('--retry', 'order even when a failing certificate\'s back-off has not ended (not before a rateLimited Retry-After)')
    .action(async (flags) => {
      const { runCommand } = await import('./commands/run.ts');
      result.code = await runCommand(flags, io);
    });

  modeOptions(program.command('plan').description('show what a run would do, without doing it'))
    .option('--at <iso-date>', 'decide as if it were this moment')
    .option('--only <name>', 'show only the lines holding this name (repeatable)', collect)
    .option('--json', 'print the plan as JSON')
    .action(async (flags) => {
      const { planCommand } = await import('./commands/plan.ts');
      result.code = await planCommand(flags, io);
    });

  program
    .command('init')
    .description('create the ACME account key named by accountKey, if missing')
    .option('--config <path>', 'path of lematt.conf; only it is read', 'conf/lematt.conf')
    .action(async (flags) => {
      const { initCommand } = await import('./commands/init.ts');
      result.code = await initCommand(flags, io);
    });

  program
    .command('forward')
    .description('redirect /.well-known/acme-challenge/ requests to the central host (run on remote hosts, e.g. as a prepare command)')
    .requiredOption('--to <url>', 'base URL of the host serving the challenge drop dir')
    .option('--listen <addr:port>', 'where to listen (repeatable; default port 80 on IPv4 and IPv6)', collect)
    .action(async (flags: { to: string; listen?: string[] }) => {
      const { runForwardCommand } = await import('./commands/forward.ts');
      result.code = await runForwardCommand({ to: flags.to, listen: flags.listen }, io);
    });

  program
    .command('respond')
    .description("answer any HTTP-01 challenge from the account key's thumbprint (stateless; for every node of a cluster)")
    .option('--config <path>', 'path of lematt.conf; only it and the account key are read', 'conf/lematt.conf')
    .option('--thumbprint <value>', 'answer with this account thumbprint (as `certfleet thumbprint` prints it); no conf needed')
    .option('--thumbprint-file <file>', 'read the thumbprint from this file; no conf needed')
    .option('--listen <addr:port>', 'where to listen (repeatable; default port 80 on IPv4 and IPv6)', collect)
    .action(async (flags: { config: string; thumbprint?: string; thumbprintFile?: string; listen?: string[] }, cmd: Command) => {
      const { runRespondCommand } = await import('./commands/respond.ts');
      result.code = await runRespondCommand({ ...flags, configGiven: cmd.getOptionValueSource('config') === 'cli' }, io);
    });

  program
    .command('thumbprint')
    .description("print the account key's JWK thumbprint (RFC 7638)")
    .option('--config <path>', 'path of lematt.conf; only it and the account key are read', 'conf/lematt.conf')
    .option('--nginx', 'print an nginx location block that answers challenges statelessly')
    .action(async (flags: { config: string; nginx?: boolean }) => {
      const { runThumbprintCommand } = await import('./commands/thumbprint.ts');
      result.code = await runThumbprintCommand(flags, io);
    });

  const broker = program.command('broker').description('the fleet broker: an ACME server for devices that proves their names upstream with DNS-01');
  const brokerConf = (cmd: Command) => cmd.option('--config <path>', 'path of broker.conf', 'broker.conf');
  brokerConf(broker.command('serve'))
    .description('serve devices (ACME, HTTPS) and get their certificates from the upstream CA, until SIGTERM')
    .action(async (flags: { config: string }) => {
      const { serveCommand } = await import('./commands/broker-serve.ts');
      result.code = await serveCommand(flags, io);
    });
  brokerConf(broker.command('enroll <device> <names...>'))
    .description('register a device and the names it may hold (exact names; *.name only when listed); prints its EAB key once; again: rotates the key')
    .option('--json', 'print the result as JSON')
    .action(async (device: string, names: string[], flags: { config: string; json?: boolean }) => {
      const { enrollCommand } = await import('./commands/broker.ts');
      result.code = await enrollCommand(flags, device, names, io);
    });
  brokerConf(broker.command('remove <device>'))
    .description("refuse the device's accounts and address updates from now on")
    .option('--json', 'print the result as JSON')
    .action(async (device: string, flags: { config: string; json?: boolean }) => {
      const { removeCommand } = await import('./commands/broker.ts');
      result.code = await removeCommand(flags, device, io);
    });
  brokerConf(broker.command('status'))
    .description('show devices, certificates and their expiry, the queue and the rate budget')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { config: string; json?: boolean }) => {
      const { statusCommand } = await import('./commands/broker.ts');
      result.code = await statusCommand(flags, io);
    });

  program
    .command('address <addresses...>')
    .description("run on a device: make these the A/AAAA records of its enrolled names, through the broker")
    .requiredOption('--broker <url>', "the broker's directory URL (or its public URL)")
    .requiredOption('--eab-kid <kid>', 'the key id `broker enroll` printed')
    .requiredOption('--eab-hmac-key-file <file>', 'a file holding the MAC key `broker enroll` printed')
    .option('--json', 'print the result as JSON')
    .action(async (addresses: string[], flags: { broker: string; eabKid: string; eabHmacKeyFile: string; json?: boolean }) => {
      const { addressCommand } = await import('./commands/address.ts');
      result.code = await addressCommand(flags, addresses, io);
    });

  return program;
}
