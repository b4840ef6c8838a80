/**
 * An exec-provider hook for tests, as a user would write one: a shell script that turns
 * `present|cleanup FQDN VALUE` into an `nsupdate` against the test BIND, authenticated with a
 * TSIG key file (never the secret on a command line).
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TsigKey } from '../../src/dns/tsig.ts';

/**
 * Writes `<dir>/tsig.key` (mode 0600) and `<dir>/nsupdate-hook` (mode 0755) updating `zone` at
 * 127.0.0.1:`port`. `log` (optional) receives one line per call. Returns the hook's path.
 */
export async function writeNsupdateHook(dir: string, opts: { port: number; zone: string; tsig: TsigKey; log?: string }): Promise<string> {
  const keyFile = join(dir, 'tsig.key');
  await writeFile(keyFile, `key "${opts.tsig.name}" { algorithm ${opts.tsig.algorithm}; secret "${opts.tsig.secret}"; };\n`, { mode: 0o600 });
  const hook = join(dir, 'nsupdate-hook');
  await writeFile(
    hook,
    `#!/bin/sh
# certfleet exec hook: $1 = present|cleanup, $2 = FQDN (trailing dot), $3 = TXT value
set -eu
${opts.log ? `echo "$1 $2 $3" >> '${opts.log}'` : ''}
case "$1" in
  present) op="update add $2 60 IN TXT \\"$3\\"" ;;
  cleanup) op="update delete $2 IN TXT \\"$3\\"" ;;
  *) echo "nsupdate-hook: unknown action $1" >&2; exit 2 ;;
esac
printf 'server 127.0.0.1 ${opts.port}\\nzone ${opts.zone}\\n%s\\nsend\\n' "$op" | nsupdate -t 5 -k '${keyFile}'
`,
    { mode: 0o755 },
  );
  await chmod(hook, 0o755);
  return hook;
}
