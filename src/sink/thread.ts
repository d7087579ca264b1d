// A lake sink on a thread of its own, for `oxbow up`: the broker, the stream workers and the sinks otherwise share one
// JavaScript thread, which becomes the limit of the whole lake long before the machine's cores do. The sink runs as
// it would alone (its own Kafka clients, storage connection and DuckDB writer); this side only starts it, relays its
// log lines, commit notices and counters, and stops it.
import { Worker } from 'node:worker_threads';
import type { OxbowConfig } from '../config/index.ts';
import { OxbowError } from '../errors.ts';
import type { ResolvedDataset } from '../stream/index.ts';
import { emptySinkCounters, type SinkCounters } from './sink.ts';

/** What the thread needs to start a sink: plain data only (a dataset's step functions stay on this side). */
export type SinkThreadInput = {
  config: Omit<OxbowConfig, 'datasets'>;
  dataset: Pick<ResolvedDataset, 'name' | 'topics' | 'schema' | 'eventTimeField'>;
  brokers: string[];
  storageUrl: string;
  workDir: string;
};

export type SinkThreadMessage =
  | { type: 'started'; groupId: string; storeUrl: string }
  | { type: 'failed'; code: string; message: string }
  | { type: 'log'; line: string }
  | { type: 'commit'; counters: SinkCounters }
  | { type: 'counters'; counters: SinkCounters }
  | { type: 'closed'; counters: SinkCounters };

export class SinkThread {
  readonly dataset: SinkThreadInput['dataset'];
  readonly groupId: string;
  #worker: Worker;
  #counters: SinkCounters = emptySinkCounters();
  #closed: Promise<void> | null = null;
  #exited: Promise<void>;

  private constructor(worker: Worker, dataset: SinkThreadInput['dataset'], groupId: string, exited: Promise<void>) {
    this.#worker = worker;
    this.dataset = dataset;
    this.groupId = groupId;
    this.#exited = exited;
  }

  /** Starts the sink on a new thread; rejects with the sink's own error (code and message) if it cannot start. */
  static start(input: SinkThreadInput, log: (line: string) => void, onCommit: () => void): Promise<SinkThread> {
    const worker = new Worker(new URL('./thread-main.ts', import.meta.url), { workerData: input, name: 'sink' });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      let thread: SinkThread | null = null;
      worker.on('message', (m: SinkThreadMessage) => {
        switch (m.type) {
          case 'started':
            thread = new SinkThread(worker, input.dataset, m.groupId, exited);
            resolve(thread);
            break;
          case 'failed':
            reject(new OxbowError(m.code, m.message));
            break;
          case 'log':
            log(m.line);
            break;
          case 'commit':
            if (thread !== null) thread.#counters = m.counters;
            onCommit();
            break;
          case 'counters':
          case 'closed':
            if (thread !== null) thread.#counters = m.counters;
            break;
        }
      });
      worker.on('error', (err) => {
        log(`the sink thread failed: ${err.message}`);
        if (thread === null) reject(err);
      });
    });
  }

  /** The sink's counters as of its last report (every half second, and at each commit). */
  get counters(): SinkCounters {
    return this.#counters;
  }

  /** Commits the open files and stops the sink, then the thread. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const closed = new Promise<void>((resolve) => {
        this.#worker.on('message', (m: SinkThreadMessage) => {
          if (m.type === 'closed') resolve();
        });
        void this.#exited.then(resolve);
      });
      this.#worker.postMessage({ type: 'close' });
      await closed;
      await this.#exited;
    })();
    return this.#closed;
  }
}
