// Small measuring helpers shared by the broker benchmark: percentiles, units, and /proc samples of a process.
import { readFileSync } from 'node:fs';

export const MB = 1_000_000;
export const MiB = 1024 * 1024;

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
    const ticksPerSecond = 100;
    return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond;
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

/** A whole-number command-line option of at least `min`, or `fallback` when absent; a clear error names the flag. */
export function wholeNumber(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
