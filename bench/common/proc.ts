// CPU time from /proc for the browser benches (bench:peer, bench:pool): per thread of the browser's processes, so
// the computing thread of each engine is measured on its own, and the machine's busy/idle ticks, to say how much of
// the machine other work took during a run.
import { readdirSync, readFileSync } from 'node:fs';

export type ThreadTimes = Map<string, { name: string; ms: number }>;

/** utime + stime of every thread of `pids`, ms (100 ticks a second), keyed pid/tid, with the thread's name. */
export function threadCpu(pids: number[]): ThreadTimes {
  const out: ThreadTimes = new Map();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process ended
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, { name, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
}

export interface ThreadUse {
  /** The thread's name and id, e.g. "DedicatedWorker 1234". */
  thread: string;
  pid: number;
  /** The process's main thread (a renderer's: where a page's scripts run). */
  main: boolean;
  cpuMs: number;
}

/** CPU used by each thread between two readings (threads born in between count from 0), busiest first. */
export function cpuBetween(before: ThreadTimes, after: ThreadTimes): ThreadUse[] {
  const use: ThreadUse[] = [];
  for (const [key, t] of after) {
    const ms = t.ms - (before.get(key)?.ms ?? 0);
    const [pid, tid] = key.split('/');
    if (ms > 0) use.push({ thread: `${t.name} ${tid}`, pid: Number(pid), main: pid === tid, cpuMs: ms });
  }
  return use.sort((a, b) => b.cpuMs - a.cpuMs);
}

/** Machine-wide CPU ticks (all cores, 100 per second each): busy and idle, from /proc/stat. */
export function machineTicks(): { busy: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}
