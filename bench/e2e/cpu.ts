// Where the CPU went, from /proc: a process's time split by thread name (the JavaScript main thread apart from
// libuv's pool and DuckDB's threads), and the whole machine's busy time.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of one /proc stat line, in seconds, and the command (thread) name. */
function parseStat(stat: string): { name: string; seconds: number } {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  return { name: stat.slice(open + 1, close), seconds: (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND };
}

/**
 * CPU seconds of each thread of `pid`, summed by thread name; the main thread (tid = pid) is `main`. Threads that
 * ended are missing, so compare two samples of long-lived threads only. Empty once the process has gone.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const { name, seconds } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      const key = Number(tid) === pid ? 'main' : name;
      out.set(key, (out.get(key) ?? 0) + seconds);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Seconds each thread group used between two samples, largest first. */
export function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): { name: string; seconds: number }[] {
  return [...after]
    .map(([name, seconds]) => ({ name, seconds: seconds - (before.get(name) ?? 0) }))
    .filter((t) => t.seconds > 0)
    .sort((a, b) => b.seconds - a.seconds);
}

/** The machine's CPU time from /proc/stat in seconds: busy (everything but idle and iowait) and total. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
