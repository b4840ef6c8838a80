import { prepareCommands } from '../plan/deployments.ts';
import { prepareEnv } from '../plan/placeholders.ts';
import type { ProcessRegistry } from '../process/process-registry.ts';
import { startPrepare, type PrepareHandle } from '../process/run-command.ts';
import type { ActionsConfig } from '../config/actions.ts';
import type { PlanItem } from '../plan/build-plan.ts';
import type { Logger } from '../report/logger.ts';
import type { Mode } from '../store/layout.ts';

/** True when `name` has prepare commands: its section's or `[every]`'s. */
export function hasPrepareCommands(actions: ActionsConfig, name: string): boolean {
  return prepareCommands(actions, [name]).some((p) => p.commands.length > 0);
}

/** Serialises work per name: two requests that start prepare commands for a name never overlap. */
export class NameLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` holding every name of `names` (taken in sorted order, so no two callers deadlock). */
  async with<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(names)].sort();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const waits = sorted.map((n) => this.tails.get(n) ?? Promise.resolve());
    for (const n of sorted) this.tails.set(n, held);
    await Promise.all(waits);
    try {
      return await fn();
    } finally {
      release();
      for (const n of sorted) if (this.tails.get(n) === held) this.tails.delete(n);
    }
  }
}

/**
 * Runs one certificate request wrapped in its `prepare` commands (lematt.md §7.1): for each name,
 * its section's list then `[every]`'s, started before the request and stopped, with their whole
 * process groups, when it ends, whatever happened. With `--parallel`, requests whose prepare
 * commands share a name wait for each other (lematt let the RSA and EC requests of one line both
 * start a server on port 80, §9 A13). A prepare command that cannot start fails this request.
 */
export async function withPrepare<T>(
  item: PlanItem,
  actions: ActionsConfig,
  ctx: { configDir: string; mode: Mode; locks: NameLocks; log: Logger; registry?: ProcessRegistry },
  request: () => Promise<T>,
): Promise<T> {
  const perName = prepareCommands(actions, item.names).filter((p) => p.commands.length > 0);
  if (perName.length === 0) return request();
  return ctx.locks.with(
    perName.map((p) => p.name),
    async () => {
      const handles: PrepareHandle[] = [];
      try {
        for (const { name, commands } of perName) {
          for (const c of commands) {
            const env = prepareEnv({ name, section: c.section, certNames: item.names, keyType: item.keyType }, { configDir: ctx.configDir, mode: ctx.mode });
            ctx.log.change(`prepare [${c.section}]: ${c.command}`);
            handles.push(await startPrepare(c.command, { env, registry: ctx.registry }));
          }
        }
        return await request();
      } finally {
        const stopped = await Promise.all(handles.map((h) => h.stop()));
        stopped.forEach((s, i) => {
          if (s.exitedEarly) ctx.log.warn(`prepare "${handles[i].command}" had already exited (${s.signal ?? `exit ${s.exitCode}`})${s.output ? `: ${s.output.trim().slice(-500)}` : ''}`);
        });
      }
    },
  );
}
