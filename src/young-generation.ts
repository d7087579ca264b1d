// The young generation of the threads that carry records. A stream worker's Kafka thread holds every record in flight
// (read, at the step threads, being sent, waiting for its acknowledgement) for tens of milliseconds, far longer than it
// takes to allocate V8's default young generation (16 MiB semi-spaces) at tens of thousands of records a second; so
// each collection of the young generation copies the records in flight, twice before they are promoted, and the old
// generation then collects them again. Larger semi-spaces are collected less often, and most records are done by then.
// Measured with the stream benchmark: 8 of 8 alternating runs faster, the worker's sustained rate about 10% higher,
// its peak memory about 30 MiB higher (docs/benchmarks.md).
//
// V8 reads the size when it sets up a heap, so it can only be given to threads started afterwards, not to the thread
// that is already running; Oxbow therefore runs stream workers on threads of their own (see stream/thread.ts).
import v8 from 'node:v8';

/** Semi-space size, in MiB, of the heaps of threads started after enlargeYoungGenerationOfNewThreads(). */
export const RECORD_THREAD_SEMI_SPACE_MB = 64;

let applied = false;

/**
 * Gives threads started from now on semi-spaces of RECORD_THREAD_SEMI_SPACE_MB, unless Node.js was started with a
 * semi-space size of its own (`--min-semi-space-size` or `--max-semi-space-size`, on the command line or in
 * NODE_OPTIONS), which is then left as given. Returns whether the size was set.
 */
export function enlargeYoungGenerationOfNewThreads(): boolean {
  if (applied) return true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /^--(min|max)[-_]semi[-_]space[-_]size\b/.test(arg));
  if (given) return false;
  v8.setFlagsFromString(`--min-semi-space-size=${RECORD_THREAD_SEMI_SPACE_MB}`);
  applied = true;
  return true;
}
