import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import type { Io } from './errors.ts';

/** The version printed by `--version`. */
export const VERSION: string = pkg.version;

const CONFIG_HELP = "path of lematt.conf; domains and actions.conf sit beside it";

/**
 * Wires flags to lazily imported commands. Each action stores its exit code in `result`;
 * nothing here exits or prints errors (main.ts is the one error boundary).
 */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('certfleet')
    .description('Keeps TLS certificates valid across many domains and hosts; reads lematt\'s conf/ unchanged.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(see certfleet --help)');

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
    .action(async (flags) => {
      const { runCommand } = await import('./commands/run.ts');
      result.code = await runCommand(flags, io);
    });

  modeOptions(program.command('plan').description('show what a run would do, without doing it'))
    .option('--at <iso-date>', 'decide as if it were this moment')
    .option('--json', 'print the plan as JSON')
    .action(async (flags) => {
      const { planCommand } = await import('./commands/plan.ts');
      result.code = await planCommand(flags, io);
    });

  program
    .command('init')
    .description('create the ACME account key named by accountKey, if missing')
    .option('--config <path>', CONFIG_HELP, 'conf/lematt.conf')
    .action(async (flags) => {
      const { initCommand } = await import('./commands/init.ts');
      result.code = await initCommand(flags, io);
    });

  return program;
}
