/**
 * Diagnostics never print a secret. A TSIG secret or EAB key that lands on its own line (pasted
 * after `tsigSecret:`) reads as an unknown key or an unparsable line, and its diagnostic would
 * quote it whole, into cron mail. So in a section that holds secrets, every quoted text of a
 * diagnostic is cut to its first few characters, unless it is the value (or a word of the
 * value) of a key that never holds a secret, such as `zones` or `server`.
 */
import type { Diagnostic } from './diagnostics.ts';
import type { IniDocument } from './ini.ts';
import type { Reporter } from './reporter.ts';

/** Characters of a masked text still shown, so the user can find the line's culprit. */
export const SHOWN_CHARS = 4;

// Keys (lowercased) whose presence means the section holds a secret, or names a file that does.
const SECRET_MARKERS = new Set(['tsigsecret', 'tsigsecretfile', 'credentialsfile', 'eabhmackey', 'eabhmackeyfile', 'eabkid']);
// Providers that always take credentials.
const SECRET_PROVIDERS = new Set(['rfc2136', 'acme-dns']);
// Keys (lowercased) whose values are never secret and may be quoted whole.
const PLAIN_KEYS = new Set([
  'zones', 'provider', 'nameservers', 'propagationtimeout', 'server', 'tsigkey', 'tsigalgorithm',
  'tsigsecretfile', 'apiurl', 'credentialsfile', 'command', 'timeout', 'directory', 'contact', 'eabhmackeyfile',
]);

/** `text` cut to its first {@link SHOWN_CHARS} characters and `…`, when longer. */
export function maskText(text: string): string {
  const chars = [...text];
  return chars.length <= SHOWN_CHARS ? text : `${chars.slice(0, SHOWN_CHARS).join('')}…`;
}

/**
 * Returns a function that rewrites a diagnostic's message for `line`: in a `[dns:*]` or
 * `[acme:*]` section holding secrets (TSIG or acme-dns credentials, EAB), every `"…"` quoted
 * text that is not a value of a plain key of the file is masked with {@link maskText}. A line
 * is taken to belong to the last section header above it.
 */
export function secretMasker(doc: IniDocument): (line: number, message: string) => string {
  const plain = new Set<string>();
  const spans: { from: number; to: number }[] = [];
  const headers = doc.sections.map((s) => s.line).sort((a, b) => a - b);
  for (const section of doc.sections) {
    for (const entry of section.entries.values()) {
      if (!PLAIN_KEYS.has(entry.key)) continue;
      plain.add(entry.raw);
      for (const word of entry.raw.split(/\s+/)) if (word) plain.add(word);
    }
    if (!section.name.startsWith('dns:') && !section.name.startsWith('acme:')) continue;
    const entries = [...section.entries.values()];
    const holdsSecrets = entries.some((e) => SECRET_MARKERS.has(e.key) || (e.key === 'provider' && SECRET_PROVIDERS.has(e.raw.trim().toLowerCase())));
    if (!holdsSecrets) continue;
    const next = headers.find((l) => l > section.line);
    spans.push({ from: section.line, to: next === undefined ? Number.MAX_SAFE_INTEGER : next - 1 });
  }
  return (line, message) => {
    if (!spans.some((s) => line >= s.from && line <= s.to)) return message;
    return message.replace(/"([^"]*)"/g, (quoted, text: string) => (plain.has(text) ? quoted : `"${maskText(text)}"`));
  };
}

/**
 * A reporter that collects, for {@link flushMasked} once the whole file is parsed (whether a
 * section holds secrets is known only then).
 */
export function bufferingReporter(file: string): Reporter & { readonly held: Diagnostic[] } {
  const held: Diagnostic[] = [];
  return {
    file,
    held,
    error: (line, message) => held.push({ file, line, severity: 'error', message }),
    warning: (line, message) => held.push({ file, line, severity: 'warning', message }),
  };
}

/** Passes every held diagnostic on to `report`, masked as {@link secretMasker} says for `doc`. */
export function flushMasked(held: readonly Diagnostic[], doc: IniDocument, report: Reporter): void {
  const mask = secretMasker(doc);
  for (const d of held) report[d.severity](d.line, mask(d.line, d.message));
}
