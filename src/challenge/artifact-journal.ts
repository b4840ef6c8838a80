import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODE_STATE, writeAtomic } from '../store/atomic.ts';
import { ensureDir, MODE_DIR_PRIVATE } from '../store/dirs.ts';

/** A challenge proof certfleet puts where others can see it. */
export type Artifact =
  | { type: 'http-01'; file: string }
  | { type: 'dns-01'; setup: string; fqdn: string; value: string };

/**
 * Challenge proofs recorded durably before they are created (`<mode>/.certfleet/challenges/`,
 * one file each) and forgotten once removed, so that what a killed run left behind (a token
 * file in the drop dir, a TXT record) is known to the next run, which removes exactly that and
 * nothing it did not create.
 */
export class ArtifactJournal {
  constructor(readonly dir: string) {}

  /** Records `artifact` before it is created; returns its id. Rejects when it cannot be recorded. */
  async record(artifact: Artifact): Promise<string> {
    await ensureDir(this.dir, MODE_DIR_PRIVATE);
    const id = randomBytes(8).toString('hex');
    await writeAtomic(path.join(this.dir, `${id}.json`), JSON.stringify(artifact), MODE_STATE);
    return id;
  }

  /** Forgets an artifact once it is removed; best effort. */
  async done(id: string): Promise<void> {
    await fs.rm(path.join(this.dir, `${id}.json`), { force: true }).catch(() => {});
  }

  /** The artifacts recorded and not forgotten (a record that is not whole is dropped, with temp files of cut-short writes). */
  async leftovers(): Promise<{ id: string; artifact: Artifact }[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const out: { id: string; artifact: Artifact }[] = [];
    for (const name of names) {
      // A record whose write a kill cut short: its artifact was never created.
      if (/^\.[0-9a-f]{16}\.json\.tmp-[0-9a-f]{8}$/.test(name)) await fs.rm(path.join(this.dir, name), { force: true });
      const m = /^([0-9a-f]{16})\.json$/.exec(name);
      if (!m) continue;
      const artifact = parse(await fs.readFile(path.join(this.dir, name), 'utf8').catch(() => ''));
      if (artifact) out.push({ id: m[1]!, artifact });
      else await this.done(m[1]!);
    }
    return out;
  }
}

function parse(text: string): Artifact | null {
  try {
    const a = JSON.parse(text) as Record<string, unknown>;
    if (a.type === 'http-01' && typeof a.file === 'string' && path.isAbsolute(a.file)) return { type: 'http-01', file: a.file };
    if (a.type === 'dns-01' && typeof a.setup === 'string' && typeof a.fqdn === 'string' && typeof a.value === 'string') {
      return { type: 'dns-01', setup: a.setup, fqdn: a.fqdn, value: a.value };
    }
  } catch {
    // not whole
  }
  return null;
}
