// A stream worker's step threads: the dataset's steps (parse, validate, filter, enrich, lookup and the output check)
// run on threads of their own while the worker's thread reads and writes Kafka, so that the two overlap. Each thread
// loads the configuration itself (steps are functions, which cannot be handed between threads) and compiles its own
// pipeline; the worker hands it slices of records of one partition and gets their outcomes back in order.
//
// A thread that ends while it holds slices (a step that called process.exit(), an exception from a step's stray
// callback, a thread out of memory) is replaced, and its slices are run again, one at a time, on their own: a slice
// that ends a thread a second time is run record by record, and a record that ends a thread on its own is
// dead-lettered (OXBOW_STREAM_STEP_FAILED). Every record gets an outcome; none is lost.
import { Worker } from 'node:worker_threads';
import { sleep } from '../async.ts';
import { OxbowError } from '../errors.ts';
import { DeadLetterCode } from './errors.ts';
import type { Outcome, SourceRecord } from './pipeline.ts';
import { decodeResult, encodeJob, type StepResult } from './step-batch.ts';

/** What a step thread needs to build the same pipeline as the worker: where the configuration is, and which dataset. */
export type StepThreadInput = {
  /** The config file as given on the command line (undefined: the default lookup, see loadConfig). */
  configFile: string | undefined;
  cwd: string;
  dataset: string;
};

export type StepThreadMessage =
  | { type: 'started' }
  | { type: 'failed'; code: string; message: string }
  | { type: 'log'; line: string }
  | { type: 'result'; result: StepResult };

export type StepPoolOptions = StepThreadInput & {
  threads: number;
  log: (line: string) => void;
};

/** Why a slice did not get its outcomes: the pool was closed before it ran. */
export class StepPoolClosed extends Error {
  constructor() {
    super('the step threads were stopped before this slice ran');
  }
}

/**
 * A slice's outcomes. Processed values are views into `reply`; once nothing reads them any more (their outputs are
 * acknowledged), giveBack(reply) lets a later slice's outcomes be written into it. Null: nothing to give back.
 */
export type SliceOutcomes = { outcomes: Outcome[]; reply: ArrayBuffer | null };

type Job = {
  sources: readonly SourceRecord[];
  /** Runs alone on a thread: it was in a thread that ended. */
  suspect: boolean;
  resolve: (outcomes: SliceOutcomes) => void;
  reject: (err: Error) => void;
};

type Slot = { worker: Worker; running: Map<number, Job>; records: number; exited: Promise<number> };

const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 10_000;
/** Buffers of each kind (job data, replies) kept for reuse at most: a few slices' worth per thread. */
const MAX_SPARES = 8;
/** A buffer larger than this (a slice of large records) is left to the collector rather than held for reuse. */
const MAX_SPARE_BYTES = 4 * 1024 * 1024;

export class StepPool {
  readonly #o: StepPoolOptions;
  #slots: Slot[] = [];
  #waiting: Job[] = [];
  /** Job buffers sent back by the threads, packed into again (fewer new buffers, fewer collections). */
  #spares: ArrayBuffer[] = [];
  /** Reply buffers given back by the worker, sent with the next jobs for their outcomes. */
  #replies: ArrayBuffer[] = [];
  #nextId = 1;
  #closing = false;
  #stop = new AbortController();

  private constructor(options: StepPoolOptions) {
    this.#o = options;
  }

  /** Starts the threads; rejects with the thread's own error (a config or lookup file that does not load) if one cannot start. */
  static async start(options: StepPoolOptions): Promise<StepPool> {
    const pool = new StepPool(options);
    const started = await Promise.allSettled(Array.from({ length: options.threads }, () => pool.#spawn()));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  /** Runs records of one partition through the steps; outcomes come back in input order. */
  process(sources: readonly SourceRecord[]): Promise<SliceOutcomes> {
    if (this.#closing) return Promise.reject(new StepPoolClosed());
    return new Promise((resolve, reject) => {
      this.#waiting.push({ sources, suspect: false, resolve, reject });
      this.#dispatch();
    });
  }

  /** A slice's reply buffer that nothing reads any more (see SliceOutcomes). */
  giveBack(reply: ArrayBuffer): void {
    keep(this.#replies, reply);
  }

  /** Hands waiting slices to threads: a suspect slice only to a thread with nothing else, other slices to the least busy. */
  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const job = this.#waiting[0]!;
      let slot: Slot | undefined;
      for (const s of this.#slots) {
        if ([...s.running.values()].some((j) => j.suspect)) continue;
        if (job.suspect && s.running.size > 0) continue;
        if (slot === undefined || s.records < slot.records) slot = s;
      }
      if (slot === undefined) return;
      this.#waiting.shift();
      const id = this.#nextId++;
      const { job: message, transfer } = encodeJob(id, job.sources, this.#spares.pop() ?? null, this.#replies.pop() ?? null);
      slot.running.set(id, job);
      slot.records += job.sources.length;
      slot.worker.postMessage({ type: 'job', job: message }, transfer);
    }
  }

  #spawn(): Promise<void> {
    const input: StepThreadInput = { configFile: this.#o.configFile, cwd: this.#o.cwd, dataset: this.#o.dataset };
    const worker = new Worker(new URL('./step-thread.ts', import.meta.url), { workerData: input, name: 'steps' });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const slot: Slot = { worker, running: new Map(), records: 0, exited };
    let error: Error | null = null;
    worker.on('error', (err) => {
      error = err;
      this.#o.log(`a step thread of ${this.#o.dataset} failed: ${err.message}`);
    });
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: StepThreadMessage) => {
        switch (m.type) {
          case 'started':
            started = true;
            if (this.#closing) {
              void worker.terminate();
              resolve();
              break;
            }
            this.#slots.push(slot);
            resolve();
            this.#dispatch();
            break;
          case 'failed':
            reject(new OxbowError(m.code, m.message));
            break;
          case 'log':
            this.#o.log(m.line);
            break;
          case 'result': {
            const job = slot.running.get(m.result.id);
            if (job === undefined) break;
            slot.running.delete(m.result.id);
            slot.records -= job.sources.length;
            if (m.result.spare !== null) keep(this.#spares, m.result.spare);
            job.resolve({ outcomes: decodeResult(m.result, job.sources), reply: m.result.out.buffer as ArrayBuffer });
            this.#dispatch();
            break;
          }
        }
      });
      void exited.then((code) => {
        if (!started) {
          reject(new OxbowError('OXBOW_STREAM_START_FAILED', `a step thread of ${this.#o.dataset} ended (exit code ${code}) before it started${error === null ? '' : `: ${error.message}`}`));
          return;
        }
        this.#ended(slot, code);
      });
    });
  }

  /** A thread ended: its slices are run again as suspects, and another thread takes its place. */
  #ended(slot: Slot, code: number): void {
    this.#slots = this.#slots.filter((s) => s !== slot);
    const jobs = [...slot.running.values()];
    slot.running.clear();
    if (this.#closing) {
      for (const job of jobs) job.reject(new StepPoolClosed());
      return;
    }
    const records = jobs.reduce((n, j) => n + j.sources.length, 0);
    this.#o.log(`a step thread of ${this.#o.dataset} ended (exit code ${code}) while holding ${records} record(s); starting another and running them again`);
    const again: Job[] = [];
    for (const job of jobs) {
      if (!job.suspect) {
        // Other slices were on the thread too: this one is not yet known to be the cause.
        again.push({ ...job, suspect: true });
      } else if (job.sources.length > 1) {
        again.push(...this.#split(job));
      } else {
        const source = job.sources[0]!;
        this.#o.log(`record ${source.topic}/${source.partition}@${source.offset} ends a step thread each time it runs; dead-lettered`);
        job.resolve({ outcomes: [{ kind: 'dead-letter', code: DeadLetterCode.STEP_FAILED, message: `the steps ended their thread (exit code ${code}) while processing this record`, step: 'runtime' }], reply: null });
      }
    }
    this.#waiting.unshift(...again);
    void this.#replace();
  }

  /** A suspect slice as single-record suspects, whose outcomes are put back together in order. */
  #split(job: Job): Job[] {
    const outcomes = new Array<Outcome>(job.sources.length);
    let left = job.sources.length;
    let failed = false;
    return job.sources.map((source, i) => ({
      sources: [source],
      suspect: true,
      // Each record's reply buffer stays with its outcome; they are left to the collector.
      resolve: ({ outcomes: [outcome] }: SliceOutcomes) => {
        outcomes[i] = outcome!;
        if (--left === 0 && !failed) job.resolve({ outcomes, reply: null });
      },
      reject: (err: Error) => {
        if (failed) return;
        failed = true;
        job.reject(err);
      },
    }));
  }

  /** Starts a thread in place of one that ended, retrying with a growing pause while it cannot start. */
  async #replace(): Promise<void> {
    for (let delayMs = RESTART_FIRST_MS; !this.#closing; delayMs = Math.min(RESTART_MAX_MS, delayMs * 2)) {
      try {
        await this.#spawn();
        return;
      } catch (err) {
        this.#o.log(`a step thread of ${this.#o.dataset} could not start: ${(err as Error).message}; trying again in ${delayMs} ms`);
        await sleep(delayMs, this.#stop.signal);
      }
    }
  }

  /** Stops the threads; slices not yet answered are rejected with StepPoolClosed (their records are redone later). */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#stop.abort();
    for (const job of this.#waiting.splice(0)) job.reject(new StepPoolClosed());
    const slots = this.#slots;
    await Promise.all(
      slots.map(async (slot) => {
        for (const job of slot.running.values()) job.reject(new StepPoolClosed());
        slot.running.clear();
        slot.worker.postMessage({ type: 'close' });
        const timer = setTimeout(() => void slot.worker.terminate(), 1000);
        await slot.exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Keeps a buffer for reuse while the list has room and the buffer is of an ordinary size. */
function keep(list: ArrayBuffer[], buffer: ArrayBuffer): void {
  if (list.length < MAX_SPARES && buffer.byteLength <= MAX_SPARE_BYTES) list.push(buffer);
}
