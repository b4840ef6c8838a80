import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArtifactJournal } from '../challenge/artifact-journal.ts';
import type { Settings } from '../config/settings.ts';
import type { Logger } from '../report/logger.ts';

/**
 * Removes the challenge proofs an earlier run recorded and never removed (it was killed): token
 * files in the drop dir (and their temp files), TXT records through their `[dns:*]` setup. Only
 * what was recorded, so nothing certfleet did not create is touched; a token file outside the
 * drop dir, or a setup no longer configured, is left alone with a warning. A record that cannot
 * be removed now is kept for the next run. Loads DNS code only when there is a record to remove.
 */
export async function removeChallengeLeftovers(stateDir: string, settings: Settings, log: Logger): Promise<ArtifactJournal> {
  const journal = new ArtifactJournal(path.join(stateDir, 'challenges'));
  for (const { id, artifact } of await journal.leftovers()) {
    try {
      if (artifact.type === 'http-01') {
        const dir = path.dirname(artifact.file);
        if (path.resolve(dir) !== path.resolve(settings.challengeDropDir)) {
          log.warn(`${artifact.file}: a recorded challenge file outside challengeDropDir; left alone`);
        } else {
          const base = path.basename(artifact.file);
          const temps = (await fs.readdir(dir).catch(() => [] as string[])).filter((e) => e.startsWith(`.${base}.tmp-`));
          await Promise.all([artifact.file, ...temps.map((t) => path.join(dir, t))].map((f) => fs.rm(f, { force: true })));
          log.info(`removed ${artifact.file}, a challenge file an interrupted run left`);
        }
      } else {
        const setup = settings.dns.find((s) => s.name === artifact.setup);
        if (!setup) {
          log.warn(`[dns:${artifact.setup}] is no longer configured; remove TXT ${artifact.fqdn} "${artifact.value}" by hand if it is still there`);
        } else {
          const { runtimeSetup } = await import('../challenge/select.ts');
          await runtimeSetup(setup).provider.cleanup(artifact.fqdn, artifact.value);
          log.info(`removed TXT ${artifact.fqdn}, a challenge record an interrupted run left`);
        }
      }
      await journal.done(id);
    } catch (err) {
      log.warn(`could not remove a challenge proof an interrupted run left (${artifact.type === 'http-01' ? artifact.file : `TXT ${artifact.fqdn}`}): ${(err as Error).message}; tried again next run`);
    }
  }
  return journal;
}
