// Starting a lake sink from the lake's configuration: one place that maps the `sink` and `storage` settings to options.
import type { OxbowConfig } from '../config/index.ts';
import type { ObjectStore } from '../storage/index.ts';
import type { ResolvedDataset } from '../stream/index.ts';
import { LakeSink, type SinkCounters } from './sink.ts';

export type SinkStartInput = {
  config: OxbowConfig;
  dataset: ResolvedDataset;
  brokers: string[];
  store: ObjectStore;
  log: (line: string) => void;
  /** Overrides `sink.workDir` (e.g. under `oxbow up --data-dir`). */
  workDir?: string;
  /** Told after each commit (oxbow up crawls the catalog then). */
  onCommit?: () => void;
};

export function startSinkFromConfig(input: SinkStartInput): Promise<LakeSink> {
  const s = input.config.sink;
  return LakeSink.start({
    brokers: input.brokers,
    clientId: input.config.kafka.clientId,
    dataset: input.dataset,
    store: input.store,
    workDir: input.workDir ?? s.workDir,
    log: input.log,
    partitioning: { pathFormat: s.pathFormat, granularity: s.granularity, timeZone: s.timeZone, fieldPartitions: s.fieldPartitions },
    rotation: {
      flushSize: s.flushSize,
      rotateIntervalMs: s.rotateIntervalMs === 0 ? undefined : s.rotateIntervalMs,
      rotateScheduleIntervalMs: s.rotateScheduleIntervalMs === 0 ? undefined : s.rotateScheduleIntervalMs,
    },
    compression: s.compression,
    maxBufferedBytes: s.maxBufferedBytes,
    writerMemoryLimit: s.writerMemoryLimit,
    writerThreads: s.writerThreads,
    sessionTimeoutMs: s.sessionTimeoutMs,
    offsetCommitIntervalMs: s.offsetCommitIntervalMs,
    ...(input.onCommit === undefined ? {} : { onCommit: input.onCommit }),
  });
}

/** One line of what a sink did, for logs and shutdown messages. */
export function sinkSummary(sink: { readonly counters: SinkCounters }): string {
  const c = sink.counters;
  const dead = Object.values(c.deadLettered).reduce((a, b) => a + b, 0);
  return `${c.recordsIn} read, ${c.rowsCommitted} rows in ${c.filesCommitted} files committed, ${c.alreadyInLake} already in the lake, ${dead} dead-lettered`;
}
