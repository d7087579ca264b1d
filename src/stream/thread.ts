// A stream worker on a thread of its own, for `oxbow up`: with the broker on the main thread, the worker's consuming,
// steps and producing would otherwise share one JavaScript thread with every request the broker answers. The thread
// loads the lake's configuration itself (a dataset's steps are functions, which cannot be handed between threads),
// runs the worker as it would run alone, and reports its status; this side starts it, relays its log lines and stops
// it.
import { Worker } from 'node:worker_threads';
import { OxbowError } from '../errors.ts';
import type { ResolvedDataset } from './dataset.ts';
import type { StreamCounters } from './pipeline.ts';
import type { StreamWorkerOptions, StreamWorkerStatus } from './worker.ts';

/** What the thread needs: where the configuration comes from, which dataset, and the worker's settings. */
export type StreamThreadInput = {
  /** The config file as given on the command line (undefined: the default lookup, see loadConfig). */
  configFile: string | undefined;
  cwd: string;
  dataset: string;
  options: Omit<StreamWorkerOptions, 'dataset' | 'log' | 'now'>;
};

export type StreamThreadMessage =
  | { type: 'started'; workerId: string; groupId: string; dataset: Pick<ResolvedDataset, 'name' | 'topics'>; status: StreamWorkerStatus }
  | { type: 'failed'; code: string; message: string }
  | { type: 'log'; line: string }
  | { type: 'status'; status: StreamWorkerStatus }
  | { type: 'closed'; status: StreamWorkerStatus };

/** How often the thread reports its counters and lag. */
export const STREAM_THREAD_REPORT_MS = 250;

export class StreamThread {
  readonly workerId: string;
  readonly groupId: string;
  readonly dataset: Pick<ResolvedDataset, 'name' | 'topics'>;
  #worker: Worker;
  #status: StreamWorkerStatus;
  #closed: Promise<void> | null = null;
  #exited: Promise<void>;

  private constructor(worker: Worker, started: Extract<StreamThreadMessage, { type: 'started' }>, exited: Promise<void>) {
    this.#worker = worker;
    this.workerId = started.workerId;
    this.groupId = started.groupId;
    this.dataset = started.dataset;
    this.#status = started.status;
    this.#exited = exited;
  }

  /** Starts the worker on a new thread; rejects with the worker's own error (code and message) if it cannot start. */
  static start(input: StreamThreadInput, log: (line: string) => void): Promise<StreamThread> {
    const worker = new Worker(new URL('./thread-main.ts', import.meta.url), { workerData: input, name: 'stream' });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      let thread: StreamThread | null = null;
      worker.on('message', (m: StreamThreadMessage) => {
        switch (m.type) {
          case 'started':
            thread = new StreamThread(worker, m, exited);
            resolve(thread);
            break;
          case 'failed':
            reject(new OxbowError(m.code, m.message));
            break;
          case 'log':
            log(m.line);
            break;
          case 'status':
          case 'closed':
            if (thread !== null) thread.#status = m.status;
            break;
        }
      });
      worker.on('error', (err) => {
        log(`the stream thread failed: ${err.message}`);
        if (thread === null) reject(err);
      });
      void exited.then(() => {
        if (thread === null) reject(new OxbowError('OXBOW_STREAM_START_FAILED', `the stream thread of dataset ${input.dataset} ended before the worker started`));
      });
    });
  }

  /** The worker's counters as of its last report (a few times a second). */
  get counters(): StreamCounters {
    return this.#status.counters;
  }

  /** The worker's status (assignments, counters, lag) as of its last report. */
  status(): StreamWorkerStatus {
    return this.#status;
  }

  /** Stops the worker (outputs in flight are finished and committed), then the thread. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#worker.postMessage({ type: 'close' });
      await this.#exited;
    })();
    return this.#closed;
  }
}
