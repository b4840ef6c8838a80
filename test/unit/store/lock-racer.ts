// One racer of lock-race.test.ts (a process of its own, as runs are): takes the run lock
// `rounds` times; each time it appends `enter`/`leave` lines to the log while holding it, then
// "dies holding it": it leaves its lock behind as a dead process's stale lock, which the other
// racers must take over. argv: dir log rounds deadPid
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquireRunLock } from '../../../src/store/lock.ts';

const [dir, log, rounds, dead] = process.argv.slice(2) as [string, string, string, string];
for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireRunLock(dir, 60_000);
  await fs.appendFile(log, `enter ${process.pid}\n`);
  await new Promise((r) => setTimeout(r, 2));
  await fs.appendFile(log, `leave ${process.pid}\n`);
  // Left as a dead run's: an earlier version's lock file and this version's claim, both stale.
  await fs.writeFile(path.join(dir, '.certfleet.lock'), `${dead}\n`);
  if (path.basename(lock.file) !== '.certfleet.lock') await fs.rename(lock.file, path.join(dir, `.certfleet.lock-${dead}-1-${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}`));
}
