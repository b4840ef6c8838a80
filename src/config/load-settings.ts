/**
 * The narrow loader: lematt.conf alone, for the commands that need only its `[config]` (the
 * account key), such as `thumbprint`, `init` and `respond` on a node that holds no domains file.
 */
import { join } from 'node:path';
import type { Diagnostic } from './diagnostics.ts';
import { locateConfig, readLemattConf, type LoadOptions } from './load.ts';
import { orderDiagnostics } from './parse.ts';
import { reporterFor } from './reporter.ts';
import { parseSettings, type Settings } from './settings.ts';

/**
 * Reads and parses lematt.conf the way {@link loadConfig} does (same path resolution, same
 * checks of every section, so every problem of that file is reported with its line), but never
 * reads `domains` or `actions.conf` and runs none of the filesystem checks of the paths it names
 * (drop dir, secret files): a cluster node has none of them. Never throws for a config problem;
 * `settings` is null when any diagnostic is an error.
 */
export async function loadSettings(opts: LoadOptions): Promise<{ settings: Settings | null; diagnostics: Diagnostic[] }> {
  const place = await locateConfig(opts);
  const diagnostics: Diagnostic[] = [];
  const source = await readLemattConf(place, diagnostics);
  if (source.text === null) return { settings: null, diagnostics };
  const { configDir } = place;
  const paths = {
    configDir,
    lemattConf: source.path,
    domainsFile: join(configDir, 'domains'),
    actionsFile: join(configDir, 'actions.conf'),
  };
  const { settings } = parseSettings(source.text, { cwd: place.cwd, paths }, reporterFor(source.display, diagnostics));
  const ordered = orderDiagnostics(diagnostics, [source.display]);
  return { settings: ordered.some((d) => d.severity === 'error') ? null : settings, diagnostics: ordered };
}
