/**
 * The deployment decision, pure: which actions.conf sections a changed certificate runs, their
 * commands expanded, and the prepare commands of a name. src/actions/ carries them out.
 */
import { sectionFor, type ActionSection, type ActionsConfig } from '../config/actions.ts';
import { deployEnv, expandDeploy, expandPrepare, lemattNameOrder } from './placeholders.ts';
import { DEPLOY_KINDS, type ActionContext, type ChangedCert, type DeployKind } from './action-types.ts';

/** The certificates one section deploys in a run. */
export interface CertGroup {
  /** Section name as in actions.conf (`default`, `every` or an override). */
  section: string;
  /** Each certificate once (by `certPath`), in first-insertion order. */
  certs: ChangedCert[];
}

/** One post-run command, expanded and ready for `/bin/sh -c`. */
export interface PlannedCommand {
  kind: DeployKind;
  /** Line of the command in actions.conf. */
  line: number;
  /** The command as written, placeholders unexpanded. */
  template: string;
  /** The command with its placeholders expanded. */
  command: string;
  /** Variables added to the environment (see `deployEnv`). */
  env: Record<string, string>;
}

/** A section's deployment: its certificates and its commands, uploadCerts → uploadKeys → update. */
export interface Deployment extends CertGroup {
  commands: PlannedCommand[];
  /** The section is no longer in actions.conf (its commands cannot be rebuilt; nothing runs). */
  missing: boolean;
}

function hasDeployCommands(section: ActionSection | null): boolean {
  return section !== null && DEPLOY_KINDS.some((kind) => section[kind].length > 0);
}

/**
 * Puts each changed certificate in the section of every one of its names (the override listing
 * the name exactly, else `[default]`), and in `[every]`, as lematt.md §7.2: a SAN certificate
 * whose names are split between an override and `[default]` lands in both, and each section
 * runs once for all its certificates. Sections with no uploadCerts, uploadKeys or update command
 * are left out (nothing to run, nothing to remember).
 *
 * Order: sections in the order the certificates first reach them (lematt's first-insertion
 * order; pass `changed` in domains-file order for a stable result), but `[every]` always last.
 * lematt ran `[every]` second, an accident of dict insertion that made its place depend on which
 * certificate finished first; last means an `[every]` update (a notification, a combined reload)
 * runs after every owning section has deployed.
 */
export function groupBySection(actions: ActionsConfig, changed: readonly ChangedCert[]): CertGroup[] {
  const groups = new Map<string, CertGroup>();
  const add = (section: ActionSection | null, cert: ChangedCert) => {
    if (!section || !hasDeployCommands(section)) return;
    let group = groups.get(section.name);
    if (!group) groups.set(section.name, (group = { section: section.name, certs: [] }));
    if (!group.certs.some((c) => c.certPath === cert.certPath)) group.certs.push(cert);
  };
  for (const cert of changed) {
    for (const name of lemattNameOrder(cert.names)) {
      add(sectionFor(actions, name), cert);
      add(actions.every, cert);
    }
  }
  return everyLast([...groups.values()]);
}

function everyLast<T extends { section: string }>(groups: T[]): T[] {
  return [...groups.filter((g) => g.section !== 'every'), ...groups.filter((g) => g.section === 'every')];
}

/** The section named `name` in `actions`, or null. */
export function sectionNamed(actions: ActionsConfig, name: string): ActionSection | null {
  if (name === 'default') return actions.default;
  if (name === 'every') return actions.every;
  return actions.overrides.find((section) => section.name === name) ?? null;
}

/**
 * Builds the deployments for `groups` (new ones from {@link groupBySection}, or pending ones
 * from the deploy state) from the current actions.conf: groups of one section are merged
 * (certificates deduplicated by path), `[every]` goes last, and each command is expanded with
 * its environment. A group whose section is gone from actions.conf gets no commands and
 * `missing: true`. Throws if a name is not a host name (see `assertSafeName`).
 */
export function planDeployments(actions: ActionsConfig, groups: readonly CertGroup[], ctx: ActionContext): Deployment[] {
  const merged = new Map<string, CertGroup>();
  for (const group of groups) {
    const into = merged.get(group.section);
    if (!into) merged.set(group.section, { section: group.section, certs: [...group.certs] });
    else for (const cert of group.certs) if (!into.certs.some((c) => c.certPath === cert.certPath)) into.certs.push(cert);
  }
  return everyLast([...merged.values()]).map(({ section: name, certs }) => {
    const section = sectionNamed(actions, name);
    const commands = !section ? [] : DEPLOY_KINDS.flatMap((kind) =>
      section[kind].map(({ command: template, line }) => ({
        kind,
        line,
        template,
        command: expandDeploy(kind, template, certs, ctx),
        env: deployEnv(name, kind, certs, ctx),
      })));
    return { section: name, certs, commands, missing: section === null };
  });
}

/** One prepare command for one name, `DOMAIN` expanded; run it split on whitespace, no shell. */
export interface PrepareCommand {
  /** The section it comes from: the name's own section, or `every`. */
  section: string;
  line: number;
  command: string;
}

/**
 * The prepare commands for a certificate about to be requested (lematt.md §7.1): for each of
 * its names in lematt's order (CN, then the sorted SANs; each name once), the name's section's
 * `prepare` list, then `[every]`'s, with `DOMAIN` replaced by the name. Throws for a name that
 * is not a host name.
 */
export function prepareCommands(actions: ActionsConfig, names: readonly string[]): { name: string; commands: PrepareCommand[] }[] {
  return lemattNameOrder(names).map((name) => {
    const sections = [sectionFor(actions, name), ...(actions.every ? [actions.every] : [])];
    const commands = sections.flatMap((section) =>
      section.prepare.map(({ command, line }) => ({ section: section.name, line, command: expandPrepare(command, name) })));
    return { name, commands };
  });
}
