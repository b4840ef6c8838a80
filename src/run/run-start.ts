import { parseOwedGroups, DeployState } from '../actions/deploy-state.ts';
import { DEFAULT_GRACE_MS } from '../process/process-group.ts';
import { ProcessRegistry } from '../process/process-registry.ts';
import type { ArtifactJournal } from '../challenge/artifact-journal.ts';
import type { Settings } from '../config/settings.ts';
import type { Logger } from '../report/logger.ts';
import { removeChallengeLeftovers } from './challenge-leftovers.ts';
import { sweepTemps } from '../store/atomic.ts';
import { recoverPublishes, type PublishBlockedError } from '../store/publish.ts';
import { recordOwed, settleInterrupted, type DeployContext } from './deploy-step.ts';

/** What a run starts from once the leftovers of earlier runs are dealt with. */
export interface StartState {
  deployState: DeployState;
  registry: ProcessRegistry;
  /** Publishes that cannot be completed yet; their certificates fail this run, unordered. */
  blocked: PublishBlockedError[];
  /** Where this run records its challenge proofs. */
  artifacts: ArtifactJournal;
}

/**
 * Deals with what earlier runs left, under the run lock and before anything is decided:
 * stops the commands a dead run left running (recorded process groups), reads the deploy state
 * (a damaged one is set aside), completes interrupted publishes with their links and records the
 * deployment each owes, sweeps temp files, and settles deployments a dead run had started by
 * their exit-status markers, and removes challenge proofs a dead run left. Only a failed write of the state stops the run.
 */
export async function recoverAtStart(
  dirs: { key: string; csr: string; cert: string; state: string },
  deploy: DeployContext,
  settings: Settings,
  log: Logger,
  now: () => Date,
): Promise<StartState> {
  const registry = new ProcessRegistry(`${dirs.state}/running`);
  const stopped = await registry.stopLeftovers(DEFAULT_GRACE_MS);
  for (const s of stopped) log.change(`stopped what an interrupted run left running: ${s}`);

  const deployState = await DeployState.load(dirs.state, { repair: true, warn: (m) => log.warn(m), now: now() });
  const recovery = await recoverPublishes(
    dirs.state,
    async (owed) => {
      let groups;
      try {
        groups = parseOwedGroups(owed);
      } catch (err) {
        log.warn(`an interrupted update's owed deployment is unreadable (${(err as Error).message}); run its upload and update commands by hand`);
        return;
      }
      await recordOwed(deployState, groups, { now });
    },
    now(),
  );
  for (const w of recovery.warnings) log.warn(w);
  for (const target of recovery.completed) log.change(`completed an interrupted update of ${target}`);
  await Promise.all([dirs.key, dirs.csr, dirs.cert].map((d) => sweepTemps(d, recovery.keep)));
  await settleInterrupted(deployState, { ...deploy, registry });
  const artifacts = await removeChallengeLeftovers(dirs.state, settings, log);
  return { deployState, registry, blocked: recovery.blocked, artifacts };
}
