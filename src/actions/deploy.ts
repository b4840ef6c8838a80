import type { DeployKind } from '../plan/action-types.ts';
import type { Deployment } from '../plan/deployments.ts';
import { commonNames } from '../plan/placeholders.ts';
import type { ProcessRegistry } from '../process/process-registry.ts';
import { DEFAULT_ACTION_TIMEOUT_MS, runShellCommand, type CommandResult, type ShellOptions } from '../process/run-command.ts';

/** One post-run command's outcome. Serialisable, for `--json` results. */
export interface CommandReport extends CommandResult {
  kind: DeployKind;
  /** Line of the command in actions.conf. */
  line: number;
  /** The command as run (placeholders expanded). */
  command: string;
  /** `skipped`: an earlier command of the same section failed, so it did not run. */
  status: 'ok' | 'failed' | 'skipped';
}

/** One section's deployment outcome. Serialisable, for `--json` results. */
export interface SectionReport {
  section: string;
  /** Every command succeeded (a section with no commands, or gone from actions.conf, is ok). */
  ok: boolean;
  /** CNs of the certificates deployed, sorted. */
  cns: string[];
  /** Real certificate files deployed; pass them to `DeployState.settle`. */
  certPaths: string[];
  commands: CommandReport[];
  /** Why nothing ran, when the section is gone from actions.conf; else null. */
  note: string | null;
}

/** Runs one command; {@link runShellCommand} unless a test or caller substitutes it. */
export type RunCommand = (command: string, opts: ShellOptions) => Promise<CommandResult>;

/** The part of the run's Logger that deployments write to. */
export interface DeployLog {
  info(message: string): void;
  change(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of {@link runDeployments}. */
export interface DeployOptions {
  log: DeployLog;
  runCommand?: RunCommand;
  /** Per command; default {@link DEFAULT_ACTION_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when a command times out. */
  graceMs?: number;
  /**
   * Called after each section, before the next starts: settle the deploy state here, so that a
   * crash later in the run does not repeat a section that succeeded. An error it throws is
   * logged and does not stop the deployments.
   */
  onResult?: (report: SectionReport) => Promise<void> | void;
  /**
   * Called before a section's first command; returns where each command's exit status is to be
   * written (see deploy-attempts.ts), or nothing. A rejection fails the section, which stays owed.
   */
  onStart?: (deployment: Deployment) => Promise<((index: number) => string) | void>;
  /** Records the commands' process groups while they run. */
  registry?: ProcessRegistry;
  /** Once aborted, no further section starts and a running command is stopped. */
  signal?: AbortSignal;
}

/**
 * Runs each deployment's commands in order (uploadCerts → uploadKeys → update, as planned) and
 * returns one report per section, in order. A failing command (non-zero exit, signal, timeout,
 * cannot start) is logged with its output and marks its section failed; the section's remaining
 * commands are skipped, because they build on it (an update would reload a server whose new
 * certificate arrived without its key), and the whole section is retried on the next run. Other
 * sections always run (lematt stopped everything, §9 A2). Never throws for a failing command.
 */
export async function runDeployments(deployments: readonly Deployment[], opts: DeployOptions): Promise<SectionReport[]> {
  const runCommand = opts.runCommand ?? runShellCommand;
  const reports: SectionReport[] = [];
  for (const deployment of deployments) {
    if (opts.signal?.aborted) break;
    const cns = commonNames(deployment.certs);
    const report: SectionReport = {
      section: deployment.section,
      ok: true,
      cns,
      certPaths: deployment.certs.map((cert) => cert.certPath),
      commands: [],
      note: null,
    };
    if (deployment.missing) {
      report.note = `[${deployment.section}] is no longer in actions.conf; its pending deployment is dropped`;
      opts.log.warn(`${report.note} (${cns.join(' ')})`);
    } else if (deployment.commands.length > 0) {
      opts.log.change(`Executing [${deployment.section}] for ${cns.join(' ')}`);
    }
    let marker: ((index: number) => string) | void = undefined;
    if (deployment.commands.length > 0 && opts.onStart) {
      try {
        marker = await opts.onStart(deployment);
      } catch (err) {
        report.ok = false;
        opts.log.error(`[${deployment.section}]: could not record the start of the deployment, so it did not run: ${(err as Error).message}`);
      }
    }
    for (const [index, planned] of deployment.commands.entries()) {
      const base = { kind: planned.kind, line: planned.line, command: planned.command };
      if (!report.ok) {
        report.commands.push({ ...base, status: 'skipped', exitCode: null, signal: null, timedOut: false, output: '', durationMs: 0 });
        continue;
      }
      opts.log.info(`[${deployment.section}] ${planned.kind}: ${planned.command}`);
      const result = await runCommand(planned.command, {
        env: planned.env,
        timeoutMs: opts.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
        graceMs: opts.graceMs,
        registry: opts.registry,
        signal: opts.signal,
        doneFile: marker ? marker(index) : undefined,
      });
      const ok = result.exitCode === 0 && !result.timedOut;
      const command: CommandReport = { ...base, ...result, status: ok ? 'ok' : 'failed' };
      report.commands.push(command);
      if (!ok) {
        report.ok = false;
        opts.log.error(describeFailure(deployment.section, command));
      }
    }
    reports.push(report);
    try {
      await opts.onResult?.(report);
    } catch (err) {
      opts.log.error(`[${deployment.section}]: could not record the deployment's outcome: ${(err as Error).message}`);
    }
  }
  return reports;
}

/**
 * One message for a failed command (pure): section, kind, actions.conf line, how it ended, the
 * command, then its captured output, each line indented with `  | `.
 */
export function describeFailure(section: string, command: CommandReport): string {
  const seconds = `${(command.durationMs / 1000).toFixed(1)} s`;
  const how = command.timedOut ? `timed out after ${seconds} and was stopped`
    : command.signal ? `killed by ${command.signal} after ${seconds}`
    : command.exitCode === null ? 'could not start'
    : `exit status ${command.exitCode} after ${seconds}`;
  const output = command.output.replace(/\n$/, '');
  const body = output === '' ? '  (no output)' : output.split('\n').map((line) => `  | ${line}`).join('\n');
  return `[${section}] ${command.kind} (actions.conf line ${command.line}) failed: ${how}: ${command.command}\n${body}`;
}
