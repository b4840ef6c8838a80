// CPU time and peak memory of the processes bench/broker.ts starts, read from /proc (Linux):
// a process and all its descendants (PostgreSQL backends, nginx workers), and the whole machine,
// so that what other work on the machine took is visible beside ours.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const HZ = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, seconds (reaped children are counted by their parent). */
  cpu: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start past the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const tick = (i: number) => Number(f[i - 3]);
    return { pid, ppid: tick(4), cpu: (tick(14) + tick(15) + tick(16) + tick(17)) / HZ };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by `pid` and every live descendant. */
export function treeCpuSeconds(pid: number): number {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const stack = [all.find((s) => s.pid === pid)].filter((s): s is ProcStat => !!s);
  while (stack.length) {
    const s = stack.pop()!;
    total += s.cpu;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** Peak resident set size (VmHWM) of `pid` in MiB, or null when it is gone. */
export function peakRssMiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / HZ;
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** The pid of the one process whose argv matches `test`; throws when none or several do. */
export function findPid(test: (argv: string[]) => boolean): number {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length && test(argv)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  if (found.length !== 1) throw new Error(`bench: expected one matching process, found ${found.length}`);
  return found[0];
}
