/**
 * Finds the parts of an existing conf tree that other users may write to: whoever can write to
 * `cert/` can swap a certificate or per-name link a web server then loads, and whoever can
 * write to actions.conf chooses the commands certfleet runs.
 */
import { promises as fs } from 'node:fs';

/**
 * One message per path of `paths` that exists and is writable by its group or by others (the
 * target's mode when it is a symlink); missing paths are skipped. Reads metadata only.
 */
export async function looseModes(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await fs.stat(p).catch(() => null);
    if (!st || (st.mode & 0o022) === 0) continue;
    const who = [st.mode & 0o020 && 'its group', st.mode & 0o002 && 'every user'].filter(Boolean).join(' and ');
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    out.push(`${p} is writable by ${who} (mode ${mode}), who could replace what certfleet reads or serves; chmod go-w ${p}`);
  }
  return out;
}
