import type { BeforeValidate } from '../challenge/preflight-hook.ts';
import type { ActionsConfig } from '../config/actions.ts';
import type { Settings } from '../config/settings.ts';
import type { Logger } from '../report/logger.ts';
import { hasPrepareCommands } from './prepare-step.ts';

/**
 * The run's `beforeValidate` hook for HTTP-01 names: first the wait for a name's prepare
 * commands to serve its challenge (`prepareWait`), then the pre-flight (`preflight: yes`).
 * Undefined when both are off. The challenge code is loaded here, only when something is due.
 */
export async function buildBeforeValidate(settings: Settings, actions: ActionsConfig, log: Logger): Promise<BeforeValidate | undefined> {
  const { buildPreflightHook } = await import('../challenge/preflight-hook.ts');
  const { awaitPrepared } = await import('../challenge/prepare-wait.ts');
  return awaitPrepared(buildPreflightHook(settings.preflight, (m) => log.info(m)), {
    waitMs: settings.prepareWaitSeconds * 1000,
    hasPrepare: (name) => hasPrepareCommands(actions, name),
    port: settings.preflight.port,
    resolver: settings.preflight.resolver,
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
  });
}
