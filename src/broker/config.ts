/**
 * Reads broker.conf: `[broker]` and `[dns:*]` sections in lematt.conf's INI dialect, every
 * problem reported as `file:line: error: …` (exit 2) before anything touches the network or
 * the store. `[dns:*]` sections are parsed by the same code as lematt.conf's, secret files
 * included; diagnostics in them quote secrets only in part.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import {
  budgetFigureProblem, checkDirectoryUrl, LETS_ENCRYPT_LIMITS, parseBudgetFigure, parseContacts, profileNameProblem, type PathCheck,
} from '../config/acme-endpoints.ts';
import type { Diagnostic } from '../config/diagnostics.ts';
import { applyDnsFile } from '../config/dns-files.ts';
import { DNS_KEYS, parseDnsSetups } from '../config/dns.ts';
import { findSection, parseIni, visibleEntries, type IniDocument } from '../config/ini.ts';
import { readValue, referencedKeys } from '../config/interpolation.ts';
import { orderDiagnostics } from '../config/parse.ts';
import { closestMatch, reporterFor, type Reporter } from '../config/reporter.ts';
import { bufferingReporter, flushMasked } from '../config/secret-mask.ts';
import { parseBoolean, parseInteger, splitKnownKeys, warnUnknownDefaults } from '../config/values.ts';
import { parseListen } from '../server/listen.ts';
import type { BrokerSettings } from './settings.ts';

/** Keys of `[broker]`, canonical spelling. */
export const BROKER_KEYS = [
  'listen', 'tlsCert', 'tlsKey', 'publicUrl', 'store', 'upstream', 'accountKey', 'contact', 'profile', 'parallel',
  'ari', 'rateBudget', 'ordersPer3Hours', 'certsPerDomainPerWeek',
] as const;

/** Default upstream orders in flight at once. */
export const DEFAULT_PARALLEL = 20;

/**
 * Parses broker.conf's text. Pure: paths are resolved against `cwd`, files
 * named are listed in `checks` for {@link loadBrokerSettings}. Never throws.
 */
export function parseBrokerSettings(text: string, file: string, cwd: string, report: Reporter): { settings: BrokerSettings; checks: PathCheck[]; files: FileCheck[] } {
  const local = bufferingReporter(report.file);
  const result = parseTo(text, file, cwd, local);
  flushMasked(local.held, result.doc, report);
  return { settings: result.settings, checks: result.checks, files: result.files };
}

/** A file of `[broker]` (tlsCert, tlsKey) that must be readable and hold PEM. */
export interface FileCheck {
  path: string;
  written: string;
  rawKey: string;
  line: number;
}

function parseTo(text: string, file: string, cwd: string, report: Reporter): { doc: IniDocument; settings: BrokerSettings; checks: PathCheck[]; files: FileCheck[] } {
  const doc = parseIni(text, report);
  const checks: PathCheck[] = [];
  const files: FileCheck[] = [];
  for (const section of doc.sections) {
    if (section.name === 'broker' || section.name.startsWith('dns:')) continue;
    const guess = closestMatch(section.name, ['broker']);
    report.warning(section.line, `unknown section [${section.name}]${guess ? ` (did you mean [${guess}]?)` : ''}; known sections: [broker], [dns:<name>]`);
  }
  warnUnknownDefaults(doc, [...BROKER_KEYS, ...DNS_KEYS], report, referencedKeys(doc));
  const dns = parseDnsSetups(doc, cwd, report, checks);
  const settings: BrokerSettings = {
    file, listen: [], tls: null, publicUrl: '', store: { kind: 'dir', dir: '' }, upstream: '', accountKeyFile: '',
    contact: [], profile: null, parallel: DEFAULT_PARALLEL, ari: true,
    budget: { enabled: true, ...LETS_ENCRYPT_LIMITS }, dns: dns.setups,
  };
  const section = findSection(doc, 'broker');
  if (!section) {
    report.error(0, 'missing section [broker]');
    return { doc, settings, checks, files };
  }
  if (doc.sections.every((s) => !s.name.startsWith('dns:'))) {
    report.error(section.line, '[broker]: the broker proves names with DNS-01: add a [dns:<name>] section holding the zones of the devices\' names');
  }
  const keys = splitKnownKeys(visibleEntries(doc, section), BROKER_KEYS, '[broker]', report, referencedKeys(doc));
  const read = (name: (typeof BROKER_KEYS)[number]) => {
    const entry = keys.get(name);
    const value = entry ? readValue(doc, section, entry, report) : null;
    return entry && value !== null ? { entry, value } : undefined;
  };
  const bad = (e: { entry: { rawKey: string; line: number } }, what: string) => report.error(e.entry.line, `${e.entry.rawKey}: ${what}`);
  const required = (name: (typeof BROKER_KEYS)[number], why: string) => {
    const found = read(name);
    if (!found && !keys.has(name)) report.error(section.line, `[broker]: ${name} is required (${why})`);
    if (found && found.value === '') { bad(found, 'empty value'); return undefined; }
    return found;
  };

  const listen = required('listen', 'ADDR:PORT where devices connect, e.g. 0.0.0.0:443');
  for (const spec of listen?.value.split(/\s+/).filter(Boolean) ?? []) {
    try {
      settings.listen.push(...parseListen(spec));
    } catch (err) {
      bad(listen!, `"${spec}": ${(err as Error).message.replace(/^--listen "[^"]*": /, '')}`);
    }
  }

  const cert = read('tlsCert');
  const key = read('tlsKey');
  if (cert && !key) bad(cert, 'needs tlsKey too (devices talk HTTPS: both, or neither behind a TLS-terminating load balancer)');
  if (key && !cert) bad(key, 'needs tlsCert too');
  if (cert && key && cert.value && key.value) {
    settings.tls = { certFile: resolve(cwd, cert.value), keyFile: resolve(cwd, key.value) };
    files.push({ path: settings.tls.certFile, written: cert.value, rawKey: cert.entry.rawKey, line: cert.entry.line });
    files.push({ path: settings.tls.keyFile, written: key.value, rawKey: key.entry.rawKey, line: key.entry.line });
  }

  const publicUrl = required('publicUrl', 'the https URL devices use, e.g. https://acme.example.com');
  if (publicUrl) {
    const problem = publicUrlProblem(publicUrl.value);
    if (problem) bad(publicUrl, problem);
    else settings.publicUrl = publicUrl.value.replace(/\/+$/, '');
  }

  const store = required('store', 'a directory, or postgres://USER@HOST/DB for several brokers');
  if (store) {
    if (/^postgres(ql)?:\/\//i.test(store.value)) {
      try {
        const url = new URL(store.value);
        if (!url.hostname) bad(store, 'a postgres:// URL needs a host');
        else settings.store = { kind: 'postgres', url: store.value };
      } catch {
        bad(store, 'not a postgres:// URL');
      }
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(store.value)) {
      bad(store, `"${store.value.replace(/\/\/[^@/]*@/, '//…@')}": only a directory or a postgres:// URL`);
    } else {
      settings.store = { kind: 'dir', dir: resolve(cwd, store.value) };
    }
  }

  const upstream = required('upstream', "the CA's ACME directory URL");
  if (upstream) {
    const problem = checkDirectoryUrl(upstream.value);
    if (problem) bad(upstream, problem);
    else settings.upstream = upstream.value;
  }
  const accountKey = required('accountKey', 'the upstream ACME account key (PEM); created by `broker serve` when missing');
  if (accountKey) settings.accountKeyFile = resolve(cwd, accountKey.value);

  const contact = read('contact');
  if (contact) settings.contact = parseContacts(contact.value, (m) => bad(contact, m));
  const profile = read('profile');
  if (profile) {
    const problem = profileNameProblem(profile.value);
    if (problem) bad(profile, problem);
    else {
      settings.profile = profile.value;
      settings.profileLine = profile.entry.line;
    }
  }
  const parallel = read('parallel');
  if (parallel) {
    const n = parseInteger(parallel.value);
    if (n === null || n < 1 || n > 1000) bad(parallel, `must be a whole number from 1 to 1000, got "${parallel.value}"`);
    else settings.parallel = n;
  }
  const ari = read('ari');
  if (ari) {
    const b = parseBoolean(ari.value);
    if (b === null) bad(ari, `must be yes or no, got "${ari.value}"`);
    else settings.ari = b;
  }
  const budget = read('rateBudget');
  if (budget) {
    const b = parseBoolean(budget.value);
    if (b === null) bad(budget, `must be yes or no, got "${budget.value}"`);
    else settings.budget.enabled = b;
  }
  for (const name of ['ordersPer3Hours', 'certsPerDomainPerWeek'] as const) {
    const e = read(name);
    if (!e) continue;
    const n = parseBudgetFigure(e.value);
    if (n === null) bad(e, budgetFigureProblem(e.value));
    else settings.budget[name] = n;
  }
  return { doc, settings, checks, files };
}

/** Why `text` cannot be the broker's public URL, or null. */
export function publicUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${text}" must be an https URL`;
  if (url.search || url.hash) return `"${text}" must not have a query or fragment`;
  if (url.username || url.password) return `"${text}" must not hold a user or password`;
  return null;
}

/**
 * Reads and checks broker.conf (at `configPath`, relative to `cwd`) and the files it names: the
 * TLS certificate and key must be readable, `[dns:*]` secret files must hold what their provider
 * needs. Never throws for a config problem: `settings` is null when any diagnostic is an error.
 */
export async function loadBrokerSettings(opts: { configPath: string; cwd: string }): Promise<{ settings: BrokerSettings | null; diagnostics: Diagnostic[] }> {
  const path = resolve(opts.cwd, opts.configPath);
  const rel = relative(opts.cwd, path);
  const display = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  const diagnostics: Diagnostic[] = [];
  const report = reporterFor(display, diagnostics);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    report.error(0, `cannot read: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
    return { settings: null, diagnostics };
  }
  const { settings, checks, files } = parseBrokerSettings(text, path, opts.cwd, report);
  for (const check of [...checks, ...files.map((f) => ({ ...f, kind: 'pem' as const }))]) {
    let content: string;
    try {
      content = await readFile(check.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      report.error(check.line, `${check.rawKey}: "${check.written}": cannot read: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
      continue;
    }
    if (check.kind === 'dnsSecretFile') {
      const mode = (await stat(check.path).catch(() => null))?.mode ?? 0;
      applyDnsFile(check, content, mode, settings.dns, report);
    } else if (!/-----BEGIN [A-Z ]+-----/.test(content)) {
      report.error(check.line, `${check.rawKey}: "${check.written}" holds no PEM block`);
    }
  }
  const ordered = orderDiagnostics(diagnostics, [display]);
  return { settings: ordered.some((d) => d.severity === 'error') ? null : settings, diagnostics: ordered };
}
