import path from 'node:path';
import type { Settings } from '../config/settings.ts';
import type { Logger } from '../report/logger.ts';
import { ensureModeTree, type ModeTree } from '../store/dirs.ts';
import { looseModes } from '../store/tree-check.ts';

/**
 * Before a run touches its tree: warns (each run, until fixed) about every part of the existing
 * conf tree that group or others may write to (conf dir, the three config files, the mode dir
 * and its key, csr, cert and state dirs), then makes the missing directories with their modes.
 */
export async function prepareModeTree(settings: Settings, dirs: ModeTree, log: Logger): Promise<void> {
  const tree = [
    settings.configDir, settings.lemattConf, settings.domainsFile, settings.actionsFile,
    path.dirname(dirs.key), dirs.key, dirs.csr, dirs.cert, dirs.state,
  ];
  for (const warning of await looseModes(tree)) log.warn(warning);
  await ensureModeTree(dirs);
}
