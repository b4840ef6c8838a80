import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Thrown when another live run holds the lock after the wait; the CLI maps it to exit 3. */
export class LockBusyError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holderPid: number | null,
  ) {
    super(`another certfleet run${holderPid ? ` (pid ${holderPid})` : ''} holds ${lockFile}; try again later`);
    this.name = 'LockBusyError';
  }
}

/** A held lock; `release` is idempotent. */
export interface RunLock {
  file: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Takes the per-config-dir run lock `<dir>/.certfleet.lock` (O_EXCL create holding our pid).
 * A lock left by a dead process is taken over; a live holder is waited for up to `waitMs`, then
 * {@link LockBusyError} is thrown. Takeover of a stale lock goes through a rename so that two
 * waiters cannot both take it.
 */
export async function acquireRunLock(dir: string, waitMs: number): Promise<RunLock> {
  const file = path.join(dir, '.certfleet.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await fs.open(file, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      return {
        file,
        release: async () => {
          if (released) return;
          released = true;
          if ((await holder(file)) === process.pid) await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = await holder(file);
    if (pid !== null && !alive(pid)) {
      // Move the stale lock aside under a unique name; only one waiter's rename succeeds on the
      // same file, and we remove it only if it still names the dead pid.
      const aside = `${file}.stale-${process.pid}`;
      const moved = await fs.rename(file, aside).then(() => true, () => false);
      if (moved) {
        const movedPid = await holder(aside);
        if (movedPid === pid) await fs.rm(aside, { force: true });
        else await fs.rename(aside, file).catch(() => {});
      }
      continue;
    }
    if (pid === null) {
      // Being written right now by its owner, or empty after a crash mid-write.
      const stat = await fs.stat(file).catch(() => null);
      if (stat && Date.now() - stat.mtimeMs > 5000) await fs.rm(file, { force: true });
    }
    if (Date.now() >= deadline) throw new LockBusyError(file, pid);
    await new Promise((r) => setTimeout(r, 100));
  }
}
