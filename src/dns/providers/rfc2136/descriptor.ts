/**
 * The rfc2136 provider's keys, TSIG secret (inline or in a file) and primary server. The
 * implementation is provider.ts.
 */
import { parseServerAddress } from '../../server-address.ts';
import type { DnsServer } from '../../transport.ts';
import type { TsigAlgorithm, TsigKey } from '../../tsig.ts';
import type { DnsProviderDescriptor, SecretFileProblems, SectionInput } from '../descriptor.ts';

/** An rfc2136 `[dns:*]` section, typed. A secret from `tsigSecretFile` is filled in after parsing. */
export interface Rfc2136Settings {
  kind: 'rfc2136';
  server: DnsServer;
  tsig: TsigKey;
}

const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'];

/** Dynamic updates signed with TSIG, sent to the primary. */
export const rfc2136: DnsProviderDescriptor<Rfc2136Settings> = {
  name: 'rfc2136',
  keys: ['server', 'tsigKey', 'tsigAlgorithm', 'tsigSecret', 'tsigSecretFile'],
  parse,
  secretFiles: { tsigSecretFile: readTsigSecretFile },
  // The primary may be hidden (no NS record points at it), and it answers without recursion.
  serversToCheck: (settings) => [settings.server],
  async load(settings) {
    const { createRfc2136Provider } = await import('./provider.ts');
    return createRfc2136Provider({ server: settings.server, tsig: settings.tsig });
  },
};

function parse({ where, line, read, required, secretFile, report }: SectionInput): Rfc2136Settings | null {
  const serverFound = required('server', 'the primary that accepts updates, ADDRESS:PORT');
  const server = serverFound ? parseServerAddress(serverFound.value) : null;
  if (serverFound && !server) report.error(serverFound.entry.line, `${serverFound.entry.rawKey}: "${serverFound.value}" is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT or HOST:PORT`);
  const key = required('tsigKey', 'the key name, as in the server\'s key statement');
  const algorithmFound = read('tsigAlgorithm');
  let algorithm: TsigAlgorithm = 'hmac-sha256';
  if (algorithmFound) {
    const a = algorithmFound.value.toLowerCase().replace(/\.$/, '');
    if (TSIG_ALGORITHMS.includes(a as TsigAlgorithm)) algorithm = a as TsigAlgorithm;
    else report.error(algorithmFound.entry.line, `${algorithmFound.entry.rawKey}: "${algorithmFound.value}" is not supported; use ${TSIG_ALGORITHMS.join(', ')}`);
  }
  const inline = read('tsigSecret');
  const file = read('tsigSecretFile');
  let secret = '';
  if (inline && file) {
    report.error(file.entry.line, `${file.entry.rawKey}: set tsigSecret or tsigSecretFile, not both (tsigSecret is on line ${inline.entry.line})`);
  } else if (!inline && !file) {
    report.error(line, `${where}: the TSIG secret is missing: set tsigSecretFile (a file only certfleet's user can read) or tsigSecret`);
  } else if (inline) {
    // The value itself is never repeated in a message.
    if (isBase64(inline.value)) secret = inline.value.trim();
    else report.error(inline.entry.line, `${inline.entry.rawKey}: not a base64 secret (as tsig-keygen prints it)`);
  } else if (file!.value === '') {
    report.error(file!.entry.line, `${file!.entry.rawKey}: empty path`);
  } else {
    secretFile('tsigSecretFile', file!);
  }
  if (!server || !key) return null;
  return { kind: 'rfc2136', server, tsig: { name: key.value, algorithm, secret } };
}

/** Fills the secret of a `tsigSecretFile` in, warning when the file names another key. */
function readTsigSecretFile(text: string, settings: Rfc2136Settings | null, file: SecretFileProblems): void {
  const found = readTsigSecret(text);
  if ('problem' in found) return file.error(`${file.where}: ${found.problem}`);
  if (!settings) return;
  if (found.name && found.name.replace(/\.$/, '').toLowerCase() !== settings.tsig.name.replace(/\.$/, '').toLowerCase()) {
    file.warning(`${file.where} holds key "${found.name}", but tsigKey is "${settings.tsig.name}"; the server knows the key by the name certfleet sends`);
  }
  settings.tsig.secret = found.secret;
}

/**
 * The secret of a TSIG key file: either the base64 secret alone, or a key statement as
 * `tsig-keygen` writes it (`key "name" { algorithm hmac-sha256; secret "…"; };`), whose name is
 * returned too. A problem otherwise (the file's content is not quoted).
 */
export function readTsigSecret(text: string): { secret: string; name?: string } | { problem: string } {
  const statement = /\bkey\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/i.exec(text);
  if (statement) {
    const secret = /\bsecret\s+"([^"]*)"/i.exec(statement[2]!)?.[1];
    if (secret === undefined) return { problem: 'its key statement has no secret "…"; clause' };
    if (!isBase64(secret)) return { problem: 'the secret of its key statement is not base64' };
    return { secret, name: statement[1] };
  }
  const bare = text.trim();
  if (bare === '') return { problem: 'empty; it must hold the base64 secret, or a key statement as tsig-keygen prints it' };
  if (!isBase64(bare)) return { problem: 'not a base64 secret nor a key statement as tsig-keygen prints it' };
  return { secret: bare };
}

/** True for standard base64 with optional padding, the form TSIG secrets are written in. */
function isBase64(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t) && t.length % 4 !== 1;
}
