// A lake sink on a thread of its own, for `oxbow up`: the broker, the stream workers and the sinks otherwise share one
// JavaScript thread, which becomes the limit of the whole lake long before the machine's cores do. The sink runs as
// it would alone (its own Kafka clients, storage connection and DuckDB writer); this side only starts it, relays its
// log lines, commit notices and counters, and stops it.
import type { OxbowConfig } from '../config/index.ts';
import { SupervisedWorker } from '../supervised-worker.ts';
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
  #thread: SupervisedWorker<SinkThreadMessage> | null = null;
  #counters: SinkCounters = emptySinkCounters();
  #closed: Promise<void> | null = null;

  private constructor(dataset: SinkThreadInput['dataset'], groupId: string) {
    this.dataset = dataset;
    this.groupId = groupId;
  }

  /**
   * Starts the sink on a new thread; rejects with the sink's own error (code and message) if it cannot start. A thread
   * that ends on its own later is started again (see SupervisedWorker); the sink recovers from storage as at any start.
   */
  static async start(input: SinkThreadInput, log: (line: string) => void, onCommit: () => void): Promise<SinkThread> {
    let groupId = '';
    let sink: SinkThread | null = null;
    const thread = await SupervisedWorker.start<SinkThreadMessage>({
      url: new URL('./thread-main.ts', import.meta.url),
      name: 'sink',
      workerData: input,
      describe: `the sink thread of ${input.dataset.name}`,
      startFailedCode: 'OXBOW_SINK_START_FAILED',
      log,
      onMessage: (m) => {
        switch (m.type) {
          case 'started':
            groupId = m.groupId;
            break;
          case 'log':
            log(m.line);
            break;
          case 'commit':
            if (sink !== null) sink.#counters = m.counters;
            onCommit();
            break;
          case 'counters':
          case 'closed':
            if (sink !== null) sink.#counters = m.counters;
            break;
          case 'failed':
            break;
        }
      },
    });
    sink = new SinkThread(input.dataset, groupId);
    sink.#thread = thread;
    return sink;
  }

  /** The sink's counters as of its last report (every half second, and at each commit); a new start counts from zero. */
  get counters(): SinkCounters {
    return this.#counters;
  }

  /** How many times the thread was started again after ending on its own. */
  get restarts(): number {
    return this.#thread?.restarts ?? 0;
  }

  /** Commits the open files and stops the sink, then the thread. */
  close(): Promise<void> {
    this.#closed ??= this.#thread!.close({ type: 'close' });
    return this.#closed;
  }
}
