// A role of `oxbow up` (a dataset's stream worker or sink) on a worker thread that is started again when it ends
// without being told to: an exception nothing caught, a step that called process.exit(), an out-of-memory of that
// thread. Both roles resume from what Kafka and storage hold (committed offsets, committed files), so starting them
// again loses nothing; until then the work waits in Kafka. The pause before each new start grows while the thread
// keeps ending soon after it starts, so a role that cannot run does not spin.
import { Worker } from 'node:worker_threads';
import { sleep } from './async.ts';
import { OxbowError } from './errors.ts';
import { startWithLargerYoungGeneration } from './young-generation.ts';

/** What every such thread reports: it started, or could not start (with the error's code and message). */
export type WorkerReport = { type: 'started' } | { type: 'failed'; code: string; message: string };

export type SupervisedWorkerOptions<M extends { type: string }> = {
  /** The thread's module. */
  url: URL;
  /** Thread name (shown by `top -H` and in the benchmarks' CPU lines). */
  name: string;
  workerData: unknown;
  /** Names the role in log lines, e.g. "the sink thread of orders". */
  describe: string;
  /** Code of the error when the thread ends before it reports that it started. */
  startFailedCode: string;
  log: (line: string) => void;
  /** Every message of the current thread, `started` included. */
  onMessage: (message: M) => void;
  /**
   * Whether the thread, and the threads it starts before it reports `started`, get the larger young generation of
   * threads that hold records in flight (young-generation.ts); at every start, the starts after a restart too.
   */
  largerYoungGeneration?: boolean;
  /** First pause before a new start; it doubles up to `maxRestartDelayMs` while starts keep failing fast. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
};

/** A thread that ran at least this long before ending counts as healthy: the next pause starts small again. */
const HEALTHY_RUN_MS = 60_000;

export class SupervisedWorker<M extends { type: string }> {
  readonly #o: Required<SupervisedWorkerOptions<M>>;
  #worker: Worker;
  #exited: Promise<number>;
  #closing = false;
  #closeMessage: unknown = undefined;
  #stop = new AbortController();
  #supervising: Promise<void> = Promise.resolve();
  #restarts = 0;

  private constructor(options: Required<SupervisedWorkerOptions<M>>, worker: Worker, exited: Promise<number>) {
    this.#o = options;
    this.#worker = worker;
    this.#exited = exited;
  }

  /** Starts the thread; rejects with the role's own error if it reports a failure or ends before it has started. */
  static async start<M extends { type: string }>(options: SupervisedWorkerOptions<M>): Promise<SupervisedWorker<M>> {
    const o = { restartDelayMs: 1000, maxRestartDelayMs: 30_000, largerYoungGeneration: false, ...options } as Required<SupervisedWorkerOptions<M>>;
    const { worker, exited } = await spawn(o);
    const supervised = new SupervisedWorker(o, worker, exited);
    supervised.#supervising = supervised.#supervise();
    return supervised;
  }

  /** How many times the thread was started again after ending on its own. */
  get restarts(): number {
    return this.#restarts;
  }

  post(message: unknown): void {
    this.#worker.postMessage(message);
  }

  /** Posts `message` (which tells the role to finish and end its thread) and waits until the thread has ended. */
  async close(message: unknown): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#closeMessage = message;
      this.#stop.abort();
      this.#worker.postMessage(message);
    }
    await this.#supervising;
    await this.#exited;
  }

  async #supervise(): Promise<void> {
    let delayMs = this.#o.restartDelayMs;
    for (;;) {
      const startedAt = Date.now();
      const code = await this.#exited;
      if (this.#closing) return;
      if (Date.now() - startedAt >= HEALTHY_RUN_MS) delayMs = this.#o.restartDelayMs;
      for (;;) {
        this.#o.log(`${this.#o.describe} ended unexpectedly (exit code ${code}); starting it again in ${delayMs} ms`);
        await sleep(delayMs, this.#stop.signal);
        delayMs = Math.min(this.#o.maxRestartDelayMs, delayMs * 2);
        if (this.#closing) return;
        try {
          const { worker, exited } = await spawn(this.#o);
          this.#worker = worker;
          this.#exited = exited;
          this.#restarts++;
          this.#o.log(`${this.#o.describe} started again`);
          // Told to close while it was starting: the message went to the thread before, so tell this one.
          if (this.#closing) {
            worker.postMessage(this.#closeMessage);
            return;
          }
          break;
        } catch (err) {
          this.#o.log(`${this.#o.describe} could not start again: ${(err as Error).message}`);
        }
      }
    }
  }
}

/** One thread, resolved once it reports `started`. */
function spawn<M extends { type: string }>(o: Required<SupervisedWorkerOptions<M>>): Promise<{ worker: Worker; exited: Promise<number> }> {
  return o.largerYoungGeneration ? startWithLargerYoungGeneration(() => spawnThread(o)) : spawnThread(o);
}

function spawnThread<M extends { type: string }>(o: Required<SupervisedWorkerOptions<M>>): Promise<{ worker: Worker; exited: Promise<number> }> {
  const worker = new Worker(o.url, { workerData: o.workerData, name: o.name });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let started = false;
    let error: Error | null = null;
    worker.on('message', (m: M) => {
      const report = m as unknown as WorkerReport;
      if (report.type === 'failed' && !started) {
        reject(new OxbowError(report.code, report.message));
        return;
      }
      if (report.type === 'started') {
        started = true;
        resolve({ worker, exited });
      }
      o.onMessage(m);
    });
    worker.on('error', (err) => {
      error = err;
      o.log(`${o.describe} failed: ${err.message}`);
    });
    void exited.then((code) => {
      if (!started) reject(new OxbowError(o.startFailedCode, `${o.describe} ended (exit code ${code}) before it started${error === null ? '' : `: ${error.message}`}`));
    });
  });
}
