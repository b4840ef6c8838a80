import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pidAlive, sameProcessAlive, selfIdentity } from '../process/process-identity.ts';

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

/** Thrown when the lock cannot be created because the config dir is not writable. */
export class LockUnwritableError extends Error {
  constructor(readonly dir: string, readonly code: string, cause: unknown) {
    super(`${dir}: cannot create the run lock there (${code})`, { cause });
    this.name = 'LockUnwritableError';
  }
}

/** The legacy single lock file (pid inside) that earlier versions wrote. */
const LEGACY = '.certfleet.lock';
/** `.certfleet.lock-<pid>-<start time>-<random>`: one per run that wants the lock. */
const CLAIM = /^\.certfleet\.lock-(\d+)-(\d+)-[0-9a-f]{8}$/;

interface Claim {
  name: string;
  pid: number;
  started: string;
}

function parseClaim(name: string): Claim | null {
  const m = CLAIM.exec(name);
  return m ? { name, pid: Number(m[1]), started: m[2]! } : null;
}

async function legacyHolder(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/**
 * Takes the per-config-dir run lock. Each run that wants it creates a claim file of its own
 * (`.certfleet.lock-<pid>-<start time>-<random>`, O_EXCL, nothing written into it, so a full
 * disk cannot leave a half-written lock), then lists the directory: it holds the lock when no
 * other live claim is there. Two runs that claim at once both see each other and both step back
 * (then retry after a random pause); a run that claims later always sees the earlier claim. So
 * at most one run ever holds it, however many race. A claim whose process is dead (pid and start
 * time, so a recycled pid does not count) is stale and removed by whoever sees it: its name is
 * unique, so removing it can never remove a live claim. A live holder is waited for up to
 * `waitMs`, then {@link LockBusyError} is thrown.
 */
export async function acquireRunLock(dir: string, waitMs: number): Promise<RunLock> {
  const deadline = Date.now() + waitMs;
  const own = `.certfleet.lock-${selfIdentity()}-${randomBytes(4).toString('hex')}`;
  const file = path.join(dir, own);
  for (let round = 0; ; round++) {
    try {
      await (await fs.open(file, 'wx', 0o644)).close();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw new LockUnwritableError(dir, code, err);
      throw new Error(`${file}: cannot create the run lock: ${(err as Error).message}`, { cause: err });
    }
    const other = await liveOther(dir, own);
    if (other === null) {
      let released = false;
      return {
        file,
        release: async () => {
          if (released) return;
          released = true;
          await fs.rm(file, { force: true });
        },
      };
    }
    await fs.rm(file, { force: true });
    if (Date.now() >= deadline) throw new LockBusyError(path.join(dir, other.name), other.pid);
    // Random, so that runs that stepped back together do not claim together again.
    await new Promise((r) => setTimeout(r, 20 + Math.random() * (round < 3 ? 40 : 150)));
  }
}

/** The first live claim other than `own` (stale ones are removed on the way), or null. */
async function liveOther(dir: string, own: string): Promise<{ name: string; pid: number | null } | null> {
  let found: { name: string; pid: number | null } | null = null;
  for (const name of await fs.readdir(dir)) {
    if (name === own) continue;
    if (name === LEGACY) {
      const file = path.join(dir, name);
      const pid = await legacyHolder(file);
      if (pid === null) continue;
      // An earlier version's lock: live while its pid runs; empty and old means a crash mid-write.
      const stat = await fs.stat(file).catch(() => null);
      const stale = pid === 0 ? !stat || Date.now() - stat.mtimeMs > 5000 : !pidAlive(pid);
      if (stale) await fs.rm(file, { force: true }).catch(() => {});
      else found ??= { name, pid: pid || null };
      continue;
    }
    const claim = parseClaim(name);
    if (!claim) continue;
    if (sameProcessAlive(claim.pid, claim.started === '0' ? null : claim.started)) found ??= { name, pid: claim.pid };
    else await fs.rm(path.join(dir, name), { force: true }).catch(() => {});
  }
  return found;
}
