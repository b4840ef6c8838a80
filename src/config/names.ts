import { domainToASCII } from 'node:url';

/** lematt's and Let's Encrypt's limit of names on one certificate, counted before expansion. */
export const MAX_NAMES_PER_LINE = 100;

/**
 * Expands the tokens of one domains line as lematt does (reference §3.3): on a line of two or
 * more tokens, every token without a dot, the first one included, gets `.<first token>`
 * appended (`localhost www` → `localhost.localhost`, `www.localhost`). A single token is
 * returned unchanged. Order and spelling are kept; nothing is deduplicated.
 */
export function expandTokens(tokens: readonly string[]): string[] {
  if (tokens.length < 2) return [...tokens];
  const first = tokens[0]!;
  return tokens.map((token) => (token.includes('.') ? token : `${token}.${first}`));
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Returns why `name` cannot be requested, as a message that names it, or null when it is a
 * valid host name: ASCII letters, digits and hyphens in labels of 1–63 characters that neither
 * start nor end with a hyphen, at least two labels, at most 253 characters, no trailing dot.
 * A leading `*.` wildcard label is accepted before at least two labels; whether a `[dns:*]`
 * zone holds it (DNS-01 is the only way to validate it) is checked by `checkWildcardNames`.
 */
export function checkName(name: string): string | null {
  if (/[^\x21-\x7e]/.test(name)) {
    const ascii = domainToASCII(name);
    const hint = ascii ? `; write it as ${ascii}` : '';
    return `"${name}": not an ASCII host name${hint}`;
  }
  if (name.endsWith('.') && name.length > 1) return `"${name}": remove the trailing dot`;
  if (name.length > 253) return `"${name.slice(0, 30)}…": ${name.length} characters; a name may have at most 253`;
  const labels = name.split('.');
  const wildcard = labels[0] === '*' && labels.length > 1;
  if (labels.length < 2) return `"${name}": needs at least two labels (e.g. ${name}.example.com)`;
  for (const label of wildcard ? labels.slice(1) : labels) {
    const problem = checkLabel(label);
    if (problem) return `"${name}": ${problem}`;
  }
  if (wildcard && labels.length < 3) return `"${name}": a wildcard needs at least two labels after "*." (CAs refuse *.${labels[1]})`;
  return null;
}

function checkLabel(label: string): string | null {
  if (LABEL.test(label)) return null;
  if (label === '') return 'empty label';
  if (label.length > 63) return `label "${label.slice(0, 20)}…" has ${label.length} characters; the limit is 63`;
  if (/^[A-Za-z0-9-]+$/.test(label)) return `label "${label}" must not start or end with a hyphen`;
  if (label.includes('*')) return `label "${label}": a wildcard must be the whole first label, as in *.example.com`;
  return `label "${label}" may hold only letters, digits and hyphens`;
}
