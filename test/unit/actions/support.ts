import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after } from 'node:test';
import { parseActions, type ActionsConfig } from '../../../src/config/actions.ts';
import type { Diagnostic } from '../../../src/config/diagnostics.ts';
import { reporterFor } from '../../../src/config/reporter.ts';
import { procStat } from '../../../src/process/process-group.ts';

/** Parses actions.conf text; throws on any diagnostic, so a fixture typo cannot pass silently. */
export function actionsFrom(...lines: string[]): ActionsConfig {
  const diagnostics: Diagnostic[] = [];
  const actions = parseActions(lines.join('\n'), '/c/actions.conf', reporterFor('actions.conf', diagnostics));
  if (diagnostics.length > 0) throw new Error(`fixture: ${JSON.stringify(diagnostics)}`);
  return actions;
}

/** A fresh temp dir (named with `prefix`), removed after the test file. */
export async function tempDir(prefix = 'certfleet-actions-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * True while `pid` runs. A zombie counts as gone: in containers whose PID 1 does not reap
 * orphans, a killed grandchild stays a zombie and `process.kill(pid, 0)` still succeeds.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = procStat(pid);
  return process.platform !== 'linux' || (stat !== null && stat.state !== 'Z' && stat.state !== 'X');
}

/** Polls `check` every 20 ms until it returns a value other than undefined; throws after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** lematt.md Appendix A's actions.conf. */
export const APPENDIX_A_ACTIONS = [
  '[default]',
  'update: ["echo UPDATE-DEFAULT CN=[DOMAINS_CN] ALL=[DOMAINS_ALL] >> /srv/lmt/actions.log"]',
  'uploadCerts: ["echo UPCERT-DEFAULT CERTS >> /srv/lmt/actions.log"]',
  'uploadKeys: ["echo UPKEY-DEFAULT KEYS >> /srv/lmt/actions.log"]',
  'prepare: ["/srv/lmt/prep.sh default DOMAIN"]',
  '',
  '[every]',
  'uploadCerts: ["echo UPCERT-EVERY CERTS >> /srv/lmt/actions.log"]',
  'update: ["echo UPDATE-EVERY CN=[DOMAINS_CN] ALL=[DOMAINS_ALL] >> /srv/lmt/actions.log"]',
  'prepare: ["/srv/lmt/prep.sh every DOMAIN"]',
  '',
  '[override-mail]',
  'domains: mail.example.com single.example.org',
  'prepare: ["/srv/lmt/prep.sh mail DOMAIN"]',
  'update: ["echo UPDATE-MAIL CN=[DOMAINS_CN] ALL=[DOMAINS_ALL] >> /srv/lmt/actions.log"]',
];

/** lematt.md Appendix A's domains, expanded (names as on the line, CN first). */
export const APPENDIX_A_LINES = [
  ['example.com', 'www.example.com', 'mail.example.com'],
  ['single.example.org'],
  ['other.net', 'www.other.org', 'api.other.net'],
];
