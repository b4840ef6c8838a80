/**
 * An nginx `location` block that answers HTTP-01 statelessly, for users who already run nginx
 * on port 80 and want the effect of `certfleet respond` without another listener.
 */
import { CHALLENGE_PREFIX, MAX_TOKEN_LENGTH, TOKEN_CHARACTERS } from './challenge-path.ts';

/**
 * Returns the block, newline-terminated, to paste into each port-80 `server {}`. It accepts the
 * same tokens as {@link parseChallengePath} and answers `<token>.<thumbprint>`; other paths
 * under the prefix fall through to the rest of the server's configuration.
 * @throws Error if `thumbprint` is not base64url (it is spliced into the config verbatim).
 */
export function nginxSnippet(thumbprint: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(thumbprint)) throw new Error('nginx snippet: thumbprint is not base64url');
  const prefix = CHALLENGE_PREFIX.replace(/[./]/g, (c) => (c === '.' ? '\\.' : c));
  return [
    `location ~ "^${prefix}([${TOKEN_CHARACTERS}]{1,${MAX_TOKEN_LENGTH}})$" {`,
    '    default_type text/plain;',
    `    return 200 "$1.${thumbprint}";`,
    '}',
    '',
  ].join('\n');
}
