// A stream worker on a thread of its own, for `oxbow up`: with the broker on the main thread, the worker's consuming,
// steps and producing would otherwise share one JavaScript thread with every request the broker answers. The thread
// loads the lake's configuration itself (a dataset's steps are functions, which cannot be handed between threads),
// runs the worker as it would run alone, and reports its status; this side starts it, relays its log lines and stops
// it.
import { loadConfig, type OxbowConfig } from '../config/index.ts';
import { OxbowError } from '../errors.ts';
import { SupervisedWorker } from '../supervised-worker.ts';
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

/**
 * The dataset as a thread of its own loads it from the configuration file (a stream thread, a step thread): steps are
 * functions, which cannot be handed from one thread to another.
 */
export async function loadThreadDataset(input: { configFile: string | undefined; cwd: string; dataset: string }): Promise<ResolvedDataset> {
  const config = await loadConfig({ file: input.configFile, cwd: input.cwd });
  const dataset = config.datasets[input.dataset];
  if (dataset === undefined) throw new OxbowError('OXBOW_STREAM_START_FAILED', `dataset ${input.dataset} is no longer declared in the configuration`);
  return dataset;
}

/** The worker options that come from a lake declaration's `stream` settings, as `oxbow stream` and `oxbow up` pass them. */
export function streamSettings(stream: OxbowConfig['stream']): Pick<StreamWorkerOptions, 'sessionTimeoutMs' | 'maxInFlightRecords' | 'maxInFlightBytes' | 'offsetCommitIntervalMs' | 'topicPartitions' | 'stepThreads'> {
  return {
    sessionTimeoutMs: stream.sessionTimeoutMs,
    maxInFlightRecords: stream.maxInFlightRecords,
    maxInFlightBytes: stream.maxInFlightBytes,
    offsetCommitIntervalMs: stream.offsetCommitIntervalMs,
    topicPartitions: stream.topicPartitions,
    stepThreads: stream.stepThreads,
  };
}

/** How often the thread reports its counters and lag. */
export const STREAM_THREAD_REPORT_MS = 250;

export class StreamThread {
  readonly workerId: string;
  readonly groupId: string;
  readonly dataset: Pick<ResolvedDataset, 'name' | 'topics'>;
  #thread: SupervisedWorker<StreamThreadMessage> | null = null;
  #status: StreamWorkerStatus;
  #closed: Promise<void> | null = null;

  private constructor(started: Extract<StreamThreadMessage, { type: 'started' }>) {
    this.workerId = started.workerId;
    this.groupId = started.groupId;
    this.dataset = started.dataset;
    this.#status = started.status;
  }

  /**
   * Starts the worker on a new thread; rejects with the worker's own error (code and message) if it cannot start. A
   * thread that ends on its own later is started again (see SupervisedWorker); the new worker resumes from the
   * group's committed offsets, so records in flight are processed again, as after any crash.
   */
  static async start(input: StreamThreadInput, log: (line: string) => void): Promise<StreamThread> {
    let stream: StreamThread | null = null;
    let first: Extract<StreamThreadMessage, { type: 'started' }> | null = null;
    const thread = await SupervisedWorker.start<StreamThreadMessage>({
      url: new URL('./thread-main.ts', import.meta.url),
      name: 'stream',
      workerData: input,
      // The worker's thread and the step threads it starts hold records in flight.
      largerYoungGeneration: true,
      describe: `the stream thread of ${input.dataset}`,
      startFailedCode: 'OXBOW_STREAM_START_FAILED',
      log,
      onMessage: (m) => {
        switch (m.type) {
          case 'started':
            first ??= m;
            if (stream !== null) stream.#status = m.status;
            break;
          case 'log':
            log(m.line);
            break;
          case 'status':
          case 'closed':
            if (stream !== null) stream.#status = m.status;
            break;
          case 'failed':
            break;
        }
      },
    });
    stream = new StreamThread(first!);
    stream.#thread = thread;
    return stream;
  }

  /** The worker's counters as of its last report (a few times a second); a new start counts from zero. */
  get counters(): StreamCounters {
    return this.#status.counters;
  }

  /** The worker's status (assignments, counters, lag) as of its last report. */
  status(): StreamWorkerStatus {
    return this.#status;
  }

  /** How many times the thread was started again after ending on its own. */
  get restarts(): number {
    return this.#thread?.restarts ?? 0;
  }

  /** Stops the worker (outputs in flight are finished and committed), then the thread. */
  close(): Promise<void> {
    this.#closed ??= this.#thread!.close({ type: 'close' });
    return this.#closed;
  }
}
