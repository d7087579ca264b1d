// Small measuring helpers shared by the broker benchmark: percentiles, units, and /proc samples of a process.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';

export const MB = 1_000_000;
export const MiB = 1024 * 1024;
/** The unit of /proc's CPU times (USER_HZ), fixed at 100 on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The p-th percentile (0..100) of `sorted` (ascending), nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Resident set size of a process in bytes (VmRSS), or null once it has gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used, in seconds, or null once it has gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Samples a process's RSS at a fixed interval and keeps the peak; stop() ends the timer. */
export class RssSampler {
  peakBytes = 0;
  lastBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs: number) {
    const sample = () => {
      const rss = rssBytes(pid);
      if (rss === null) return;
      this.lastBytes = rss;
      if (rss > this.peakBytes) this.peakBytes = rss;
    };
    sample();
    this.timer = setInterval(sample, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const PROBE_RECORD = JSON.stringify({ id: 'probe-0000000001', country: 'AB', quantity: 3, price: 12.5, tags: ['a', 'b'], at: '2026-01-01T00:00:00.000Z', note: 'n'.repeat(160) });

/**
 * Milliseconds this thread takes for a fixed piece of work (JSON parse and stringify of one small record, `rounds`
 * times): the speed of the core it ran on at that moment, lower being faster. The best of three short tries, so that
 * one preemption does not count.
 */
export function hostProbeMs(rounds = 20_000): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) {
      const o = JSON.parse(PROBE_RECORD) as { quantity: number };
      o.quantity = i;
      sink += JSON.stringify(o).length;
    }
    best = Math.min(best, performance.now() - start);
  }
  if (sink === 0) throw new Error('the host probe did no work');
  return best;
}

/**
 * hostProbeMs() on each CPU in turn, pinned there with taskset(1): the cores of a virtual machine need not run at one
 * speed (a core that shares its physical core with another guest's busy thread runs at about half speed, for seconds
 * or minutes, without any of it showing as steal), and a run's threads land on whichever cores the scheduler picks.
 * Null where taskset is missing or fails (not Linux, no util-linux).
 */
export function hostProbePerCpu(cpus = os.availableParallelism()): number[] | null {
  const code = `import { hostProbeMs } from ${JSON.stringify(pathToFileURL(import.meta.filename).href)}; process.stdout.write(String(hostProbeMs()));`;
  const figures: number[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const r = spawnSync('taskset', ['-c', String(cpu), process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    const ms = Number(r.stdout);
    if (r.status !== 0 || !Number.isFinite(ms) || ms <= 0) return null;
    figures.push(ms);
  }
  return figures;
}

/** "cpu0 12.3 ms, cpu1 6.8 ms" (null: "not measured"). */
export function describeProbes(probes: readonly number[] | null): string {
  return probes === null ? 'not measured' : probes.map((ms, cpu) => `cpu${cpu} ${fmt(ms, 1)} ms`).join(', ');
}

/** CPU time the hypervisor gave to others while this machine's CPUs had work ("steal" in /proc/stat), over a span. */
export type StealFigures = {
  /** Stolen CPU time in milliseconds, summed over the CPUs. */
  stolenMs: number;
  /** Stolen time as a share (0..1) of all CPU time of the span. */
  share: number;
  /** The most CPU time stolen within one sampling interval, in milliseconds. */
  worstMs: number;
  /** The sampling interval. */
  intervalMs: number;
};

type CpuTimes = { atMs: number; steal: number; total: number };

/** The machine's CPU times from the first line of /proc/stat, in clock ticks; null where there is no /proc/stat. */
function cpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').slice(0, 256).split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user and nice)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 8 || f.some((n) => !Number.isFinite(n))) return null;
    return { atMs: wallMs(), steal: f[7]!, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * Samples the machine's stolen CPU time at a fixed interval, so that a run can say whether the host took CPU away
 * while it was timed: on a virtual machine a stretch of steal stalls every process at once, the broker and the load
 * generators alike, and shows in a latency figure as if one of them had stalled.
 */
export class StealSampler {
  readonly #samples: CpuTimes[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #intervalMs: number;

  constructor(intervalMs = 100) {
    this.#intervalMs = intervalMs;
    const sample = () => {
      const t = cpuTimes();
      if (t !== null) this.#samples.push(t);
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    const t = cpuTimes();
    if (t !== null) this.#samples.push(t);
  }

  /** The steal between two wall-clock times (wallMs()), from the samples that span them; null without /proc/stat. */
  between(fromMs: number, toMs: number): StealFigures | null {
    const s = this.#samples;
    // The last sample at or before the start, through the first at or after the end.
    let first = 0;
    while (first + 1 < s.length && s[first + 1]!.atMs <= fromMs) first++;
    let last = first;
    while (last + 1 < s.length && s[last]!.atMs < toMs) last++;
    if (last === first) return null;
    let worst = 0;
    for (let i = first + 1; i <= last; i++) worst = Math.max(worst, s[i]!.steal - s[i - 1]!.steal);
    const ticks = s[last]!.steal - s[first]!.steal;
    const total = s[last]!.total - s[first]!.total;
    const msPerTick = 1000 / CLOCK_TICKS_PER_SECOND;
    return { stolenMs: ticks * msPerTick, share: total > 0 ? ticks / total : 0, worstMs: worst * msPerTick, intervalMs: this.#intervalMs };
  }
}

/** "1.2% of CPU time, at most 90 ms in 100 ms" for a report line, after the words "host steal". */
export function describeSteal(steal: StealFigures | null): string {
  if (steal === null) return 'not measured';
  return `${fmt(steal.share * 100, 1)}% of CPU time, at most ${fmt(steal.worstMs)} ms in ${fmt(steal.intervalMs)} ms`;
}

/** A whole-number command-line option of at least `min`, or `fallback` when absent; a clear error names the flag. */
export function wholeNumber(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** The value of a `--direct-io` option (broker.directIo), or null when absent (the broker's default). */
export function directIoOption(raw: string | undefined): 'auto' | 'on' | 'off' | null {
  if (raw === undefined) return null;
  if (raw !== 'auto' && raw !== 'on' && raw !== 'off') throw new Error(`--direct-io takes auto, on or off, got ${JSON.stringify(raw)}`);
  return raw;
}
