// The young generation of the threads that carry records. A stream worker's Kafka thread holds every record in flight
// (read, at the step threads, being sent, waiting for its acknowledgement) for tens of milliseconds, far longer than it
// takes to allocate V8's default young generation (16 MiB semi-spaces) at tens of thousands of records a second; so
// each collection of the young generation copies the records in flight, twice before they are promoted, and the old
// generation then collects them again. Larger semi-spaces are collected less often, and most records are done by then.
// Measured with the stream benchmark: 8 of 8 alternating runs faster, the worker's sustained rate about 10% higher,
// its peak memory about 30 MiB higher (docs/benchmarks.md).
//
// V8 reads the size when it sets up a heap, so it can only be given to threads started afterwards, not to the thread
// that is already running; Oxbow therefore runs stream workers on threads of their own (see stream/thread.ts), and
// sets the size only while those start (SupervisedWorker's `largerYoungGeneration`, at every start of the thread): a
// sink's threads keep V8's default (about 110 MiB less at the peak of `oxbow up`).
import v8 from 'node:v8';

/** Semi-space size, in MiB, of the heaps of threads started inside startWithLargerYoungGeneration(). */
export const RECORD_THREAD_SEMI_SPACE_MB = 64;

/** Starts running that want the larger size at this moment. */
let holders = 0;

/** Whether Node.js was started with a semi-space size of its own, which is then left as given. */
function sizeGiven(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /^--(min|max)[-_]semi[-_]space[-_]size\b/.test(arg));
}

/**
 * Runs `start`, during which every thread started (and every thread those start) gets semi-spaces of
 * RECORD_THREAD_SEMI_SPACE_MB; `start` resolves once they are running. Threads started afterwards (the sink's, or a
 * step thread that replaces one that ended) get V8's default again, so that only the threads that hold records in
 * flight pay the memory. A Node.js started with `--min-semi-space-size` or `--max-semi-space-size` (on the
 * command line; NODE_OPTIONS takes only the latter) keeps what it was given.
 */
export async function startWithLargerYoungGeneration<T>(start: () => Promise<T>): Promise<T> {
  if (sizeGiven()) return start();
  if (holders++ === 0) v8.setFlagsFromString(`--min-semi-space-size=${RECORD_THREAD_SEMI_SPACE_MB}`);
  try {
    return await start();
  } finally {
    // V8's default: 0, its own choice.
    if (--holders === 0) v8.setFlagsFromString('--min-semi-space-size=0');
  }
}
