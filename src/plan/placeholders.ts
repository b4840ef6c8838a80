/**
 * lematt's placeholders and certfleet's environment variables for action commands, pure: what a
 * command will be given, decided before anything runs.
 */
import path from 'node:path';
import { fileSafe, sortSans, type KeyType } from '../store/layout.ts';
import type { ActionContext, ChangedCert, DeployKind } from './action-types.ts';

/**
 * Quotes `value` for `/bin/sh` the way Python's `shlex.quote` does: returned unchanged when it
 * holds only characters no shell treats specially (`A-Za-z0-9_@%+=:,./-`), else wrapped in
 * single quotes with each `'` written as `'\''`. Plain paths therefore expand byte for byte as
 * lematt's did, so commands that put a placeholder inside double quotes keep working, while a
 * config dir with a space or `$` can no longer split or inject.
 */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const SAFE_NAME = /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Throws unless `name` is a host name (letters, digits, hyphens, dots; an optional leading `*.`),
 * the only kind of name certfleet splices into a command. The config reader already refuses
 * others; this guards names read back from the deploy state.
 */
export function assertSafeName(name: string): void {
  if (!SAFE_NAME.test(name)) throw new Error(`"${name}": not a host name; certfleet splices only host names into action commands`);
}

/**
 * A line's names in lematt's order (its cert tuple, lematt.md §7.1): the CN, then the SANs
 * deduplicated and sorted as for file names; each name once (lematt repeated a CN that appears
 * again later on the line).
 */
export function lemattNameOrder(names: readonly string[]): string[] {
  return [...new Set([names[0]!, ...sortSans(names)])];
}

/** Literal, case-sensitive substring replacement, as lematt (no `$&` patterns, unlike String.replace). */
function replaceLiteral(text: string, placeholder: string, value: string): string {
  return text.split(placeholder).join(value);
}

/**
 * Expands `DOMAIN` in a prepare command to `name` (no quoting: prepare commands are split on
 * whitespace and run without a shell, and `name` is a checked host name). Unlike lematt, the
 * `DOMAIN` inside `DOMAINS_CN` / `DOMAINS_ALL` is left alone (lematt produced `<name>S_CN`);
 * those two have no meaning in prepare and stay literal. Throws for an unsafe name.
 */
export function expandPrepare(template: string, name: string): string {
  assertSafeName(name);
  return template.replace(/DOMAIN(?!S_CN|S_ALL)/g, () => name);
}

/**
 * `<configDir>/<mode>/<dir>/<name>*` for each name of each certificate (lematt order, no
 * duplicates), space-separated: lematt's absolute shell globs (§3.4), one per name, which cover
 * the combined file, the per-name links and both key types. The path is {@link shellQuote}d and
 * the `*` stays outside the quotes, so the shell still globs.
 */
export function globsFor(certs: readonly ChangedCert[], dir: 'cert' | 'key', ctx: ActionContext): string {
  const globs = new Set<string>();
  for (const cert of certs) {
    for (const name of lemattNameOrder(cert.names)) {
      assertSafeName(name);
      globs.add(`${shellQuote(path.join(path.resolve(ctx.configDir), ctx.mode, dir, fileSafe(name)))}*`);
    }
  }
  return [...globs].join(' ');
}

/** The distinct CNs of `certs`, sorted (lematt used set order, which changed between runs). */
export function commonNames(certs: readonly ChangedCert[]): string[] {
  return [...new Set(certs.map((cert) => cert.names[0]!))].sort();
}

/** The distinct names (CNs and SANs) of `certs`, sorted. */
export function allNames(certs: readonly ChangedCert[]): string[] {
  return [...new Set(certs.flatMap((cert) => cert.names))].sort();
}

function nameList(names: readonly string[]): string {
  for (const name of names) assertSafeName(name);
  return names.map(shellQuote).join(' ');
}

/**
 * Expands a post-run command for the certificates of its section, as lematt did: `CERTS` in
 * `uploadCerts` and `KEYS` in `uploadKeys` become {@link globsFor}; in `update`, `DOMAINS_CN`
 * (replaced first) and `DOMAINS_ALL` become the space-separated sorted CNs / all names. Any other
 * placeholder in a kind stays literal, as in lematt. Throws for an unsafe name.
 */
export function expandDeploy(kind: DeployKind, template: string, certs: readonly ChangedCert[], ctx: ActionContext): string {
  switch (kind) {
    case 'uploadCerts':
      return template.includes('CERTS') ? replaceLiteral(template, 'CERTS', globsFor(certs, 'cert', ctx)) : template;
    case 'uploadKeys':
      return template.includes('KEYS') ? replaceLiteral(template, 'KEYS', globsFor(certs, 'key', ctx)) : template;
    case 'update': {
      const withCn = replaceLiteral(template, 'DOMAINS_CN', nameList(commonNames(certs)));
      return replaceLiteral(withCn, 'DOMAINS_ALL', nameList(allNames(certs)));
    }
  }
}

/**
 * Environment variables for a post-run command, so scripts need no parsing:
 * `CERTFLEET_ACTION` (the kind), `CERTFLEET_SECTION`, `CERTFLEET_MODE`, `CERTFLEET_CONFIG_DIR`,
 * `CERTFLEET_CN` and `CERTFLEET_NAMES` (space-separated, sorted, as `DOMAINS_CN`/`DOMAINS_ALL`),
 * and, one line per certificate in the same order, `CERTFLEET_CERTS` and `CERTFLEET_KEYS`
 * (absolute paths of the real files) and `CERTFLEET_KEY_TYPES` (`rsa` or `ec`).
 */
export function deployEnv(section: string, kind: DeployKind, certs: readonly ChangedCert[], ctx: ActionContext): Record<string, string> {
  return {
    ...commonEnv(section, kind, ctx),
    CERTFLEET_CN: commonNames(certs).join(' '),
    CERTFLEET_NAMES: allNames(certs).join(' '),
    CERTFLEET_CERTS: certs.map((cert) => cert.certPath).join('\n'),
    CERTFLEET_KEYS: certs.map((cert) => cert.keyPath).join('\n'),
    CERTFLEET_KEY_TYPES: certs.map((cert) => cert.keyType).join('\n'),
  };
}

/** What a prepare command is started for: one name of the certificate being requested. */
export interface PrepareTarget {
  /** The name `DOMAIN` stands for. */
  name: string;
  /** The section the command comes from (the name's own, or `every`). */
  section: string;
  /** All names of the certificate being requested, CN first. */
  certNames: readonly string[];
  keyType: KeyType;
}

/**
 * Environment variables for a prepare command: `CERTFLEET_ACTION=prepare`, `CERTFLEET_SECTION`,
 * `CERTFLEET_MODE`, `CERTFLEET_CONFIG_DIR`, `CERTFLEET_DOMAIN` (the name, as `DOMAIN`),
 * `CERTFLEET_CN`, `CERTFLEET_NAMES` (the certificate's names, space-separated, CN first) and
 * `CERTFLEET_KEY_TYPE`.
 */
export function prepareEnv(target: PrepareTarget, ctx: ActionContext): Record<string, string> {
  return {
    ...commonEnv(target.section, 'prepare', ctx),
    CERTFLEET_DOMAIN: target.name,
    CERTFLEET_CN: target.certNames[0] ?? '',
    CERTFLEET_NAMES: lemattNameOrder(target.certNames).join(' '),
    CERTFLEET_KEY_TYPE: target.keyType,
  };
}

function commonEnv(section: string, action: string, ctx: ActionContext): Record<string, string> {
  return {
    CERTFLEET_ACTION: action,
    CERTFLEET_SECTION: section,
    CERTFLEET_MODE: ctx.mode,
    CERTFLEET_CONFIG_DIR: path.resolve(ctx.configDir),
  };
}
