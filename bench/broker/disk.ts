// Baselines of the disk under the broker's data directory: sequential write bandwidth (1 MiB writes, then one
// fdatasync) and the latency of write + fdatasync appends at a fixed rate.
import { randomFillSync } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { PageCacheDropper } from '../../src/broker/log/page-cache.ts';
import { MB, MiB, percentile, wallMs } from './stats.ts';

export type DiskResult = { bytes: number; seconds: number; mbPerSecond: number };

/**
 * Writes `totalMiB` MiB of random bytes to a new file `<dir>/raw-write-<run>.bin` in 1 MiB writes and fdatasyncs once.
 * The clock stops after the fdatasync, so the figure is what reached the disk, not the page cache.
 *
 * The file is left in place (the caller removes `dir` at the end): every run writes new data into memory the page
 * cache has not held before, as a growing log does. Rewriting a file just deleted measures something else on a
 * virtual machine: the kernel hands the deleted file's page cache memory straight back, and the write phase runs at
 * memory speed (8-9 GB/s here, against about 700 MB/s into fresh memory), which no log that keeps its data can reach.
 * For the same reason its page cache is kept: dropped, it made the next run 1.6-1.8 GB/s.
 */
export function measureSequentialWriteSync(dir: string, totalMiB: number, run: number): DiskResult {
  const file = path.join(dir, `raw-write-${run}.bin`);
  const chunk = randomFillSync(Buffer.allocUnsafe(MiB));
  const fd = openSync(file, 'w');
  try {
    const start = performance.now();
    for (let i = 0; i < totalMiB; i++) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fdatasyncSync(fd);
    const seconds = (performance.now() - start) / 1000;
    const bytes = totalMiB * MiB;
    return { bytes, seconds, mbPerSecond: bytes / MB / seconds };
  } finally {
    closeSync(fd);
  }
}

/**
 * Drops the page cache of the files the raw appends wrote, so that the runs after them (the next fsync policy's, the
 * soak) start from the memory they would have had without them. On these machines (a VM whose free memory goes back
 * to its host) a run after them paid for the gigabytes they left cached: at 440,000 records/s the broker's p99 was
 * 20.6-167 ms in four runs with the raw appends' 6 GB left cached, 5.0-7.9 ms in four with it dropped. Dropping is
 * not free either: the host takes the memory back over the next seconds, which is why the broker's latency run
 * comes before the raw appends, not after them (see latencyRun in run.ts). It is the broker's own dropper
 * (broker.pageCache=recent), which says so on stderr when it cannot drop. Deleting the files instead would hand the
 * run after them the file system's discards (see measureAppendLatency).
 */
async function dropPageCache(files: string[]): Promise<void> {
  // No pauses between pieces: nothing else runs meanwhile.
  const dropper = new PageCacheDropper({ mode: 'recent', log: (line) => process.stderr.write(`raw disk: ${line}\n`), pauseMs: 0 });
  try {
    for (const file of files) dropper.drop(file);
    await dropper.idle();
  } finally {
    await dropper.close();
  }
}

export type AppendLatencyResult = {
  appends: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Wall-clock span of the timed appends (wallMs()), from the first one's schedule to the last one's end. */
  startMs: number;
  endMs: number;
};

/**
 * The disk's own answer to the latency run: `chunkBytes` appended to one of `files` files every `intervalMs`
 * (round-robin), each write followed by an fdatasync of that file, timed from the moment it was scheduled. This is
 * what an acks=all append costs the broker at that rate before any protocol or client work. Like the broker's run, it
 * starts with an untimed warm-up at the same rate.
 *
 * The files stay until the caller removes `dir` at the end, their page cache dropped (see dropPageCache). Deleting
 * gigabytes here would hand the broker run that follows the file system's work of freeing them: on ext4 mounted with
 * `discard` (as these machines' root is), the journal commits that fdatasync waits for then carry the discards of
 * every freed extent, for a second or more.
 */
export async function measureAppendLatency(
  dir: string,
  opts: { chunkBytes: number; intervalMs: number; files: number; durationMs: number; warmupMs: number },
): Promise<AppendLatencyResult> {
  const sub = mkdtempSync(path.join(dir, 'raw-append-'));
  const chunk = randomFillSync(Buffer.allocUnsafe(opts.chunkBytes));
  const files = Array.from({ length: opts.files }, (_, i) => path.join(sub, `f${i}`));
  const handles = await Promise.all(files.map((f) => open(f, 'w')));
  const positions = handles.map(() => 0);
  const chains: Promise<void>[] = handles.map(() => Promise.resolve());
  const latencies: number[] = [];
  let startMs = 0;
  let endMs = 0;
  try {
    const start = performance.now();
    const warmup = Math.floor(opts.warmupMs / opts.intervalMs);
    const count = warmup + Math.floor(opts.durationMs / opts.intervalMs);
    startMs = wallMs() + warmup * opts.intervalMs;
    for (let i = 0; i < count; i++) {
      const timed = i >= warmup;
      const scheduled = start + i * opts.intervalMs;
      const wait = scheduled - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const f = i % handles.length;
      const fh = handles[f]!;
      const at = positions[f]!;
      positions[f] = at + chunk.length;
      // Appends to one file are serialized, as a partition log serializes them.
      chains[f] = chains[f]!.then(async () => {
        await fh.write(chunk, 0, chunk.length, at);
        await fh.datasync();
        if (timed) latencies.push(performance.now() - scheduled);
      });
    }
    await Promise.all(chains);
  } finally {
    endMs = wallMs();
    for (const fh of handles) await fh.close();
    await dropPageCache(files);
  }
  latencies.sort((a, b) => a - b);
  return { appends: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? Number.NaN, startMs, endMs };
}
