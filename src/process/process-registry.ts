import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startTime } from './process-identity.ts';
import { groupAlive, stopGroup } from './process-group.ts';

/** One recorded process group. */
interface Entry {
  pgid: number;
  /** Start time of the group's leader (see process-identity.ts), or null off Linux. */
  started: string | null;
  command: string;
}

/**
 * The process groups of running `prepare` and action commands, one file each in `dir`
 * (`<mode>/.certfleet/running/`), so that a run killed with SIGKILL, which can stop nothing,
 * leaves a list of what it left running. Commands are started gated (see run-command.ts): they
 * wait until their group is recorded here, and exit without running when certfleet dies first,
 * so no command ever runs unrecorded.
 */
export class ProcessRegistry {
  constructor(readonly dir: string) {}

  /** Records group `pgid` (its leader just started). Rejects when the record cannot be written. */
  async add(pgid: number, command: string): Promise<void> {
    // Private, as the state dir it lives in (0700 dir, 0600 files, whatever the umask).
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const entry: Entry = { pgid, started: startTime(pgid), command };
    const file = path.join(this.dir, `${pgid}.json`);
    await fs.writeFile(file, JSON.stringify(entry), { mode: 0o600 });
    await fs.chmod(file, 0o600);
  }

  /** Forgets group `pgid` once it is gone; best effort. */
  async remove(pgid: number): Promise<void> {
    await fs.rm(path.join(this.dir, `${pgid}.json`), { force: true }).catch(() => {});
  }

  /**
   * Stops what a dead run left running (SIGTERM, then SIGKILL after `graceMs`) and forgets it.
   * Call under the run lock, before starting the same work. A recorded group is ours only while
   * its leader has the recorded start time, or, with the leader gone, while members of it remain
   * (a recycled pid leads a group of another start time and is left alone). Returns what it stopped.
   */
  async stopLeftovers(graceMs: number): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => /^\d+\.json$/.test(n));
    } catch {
      return [];
    }
    const stopped: string[] = [];
    await Promise.all(names.map(async (name) => {
      const file = path.join(this.dir, name);
      let entry: Entry | null = null;
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Entry;
        if (Number.isInteger(raw.pgid) && raw.pgid > 1) entry = raw;
      } catch {
        // a record cut short by a crash: its group, if any, cannot be identified
      }
      if (entry && isOurs(entry)) {
        stopped.push(`${entry.command} (process group ${entry.pgid})`);
        await stopGroup(entry.pgid, graceMs);
      }
      await fs.rm(file, { force: true }).catch(() => {});
    }));
    return stopped;
  }
}

function isOurs(entry: Entry): boolean {
  const leader = startTime(entry.pgid);
  if (leader !== null) return entry.started === null || leader === entry.started;
  return groupAlive(entry.pgid);
}
