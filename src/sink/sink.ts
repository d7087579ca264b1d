// The lake sink: one member of a dataset's sink consumer group, moving the processed topic into the golden zone as
// Parquet files, exactly once.
//
// A Kafka partition's records go into one open file per lake partition path. When any of those files is due (by
// record count, event-time span, wall clock, or because the sink holds too much in memory), every open file of that
// Kafka partition is committed together as one *unit*: all of them are named with the unit's first and last offset,
// written locally, then made visible one by one (rename, PUT or completed multipart upload). Units of a partition are
// committed strictly one after another, so after a crash only the newest unit can be incomplete. Recovery therefore
// lists the partition's files, takes the unit with the highest last offset, and reads that unit's offsets again,
// writing only the records whose lake path has no file covering them yet: the missing files of that unit, with the
// same names and contents. Kafka offsets are committed only after a whole unit is visible; they are a hint that saves
// re-reading, never the truth.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { Consumer, ProduceAcks, Producer, type MessageToProduce } from '@platformatic/kafka';
import { describeError, sleep } from '../async.ts';
import { assert } from '../errors.ts';
import { forEachRecord, KafkaCodecError, readRecordKeyAndHeaders, type RecordHeader } from '../kafka/index.ts';
import { TopicFetcher, type FetchedPartition } from './topic-fetcher.ts';
import type { ObjectStore } from '../storage/index.ts';
import { deadLetterHeaders, processedSchema, type ResolvedDataset } from '../stream/index.ts';
import { SinkError, SinkRecordCode } from './errors.ts';
import { dataFileName, parseDataFileName, type ParquetCodec } from './file-name.ts';
import { mapJsonSchema, type ParquetSchemaMapping } from './parquet-schema.ts';
import { topLevelFieldReader } from './json-fields.ts';
import { NdjsonLines } from './ndjson-lines.ts';
import { ParquetWriter } from './parquet-writer.ts';
import { createPartitioner, type Granularity, type Partitioner } from './partitioner.ts';
import { OpenFileTracker, openFileKey, type RotateReason, type RotationPolicy } from './rotation.ts';

export type SinkPartitioning = {
  pathFormat?: string;
  granularity?: Granularity;
  timeZone?: string;
  fieldPartitions?: readonly string[];
};

export type LakeSinkOptions = {
  brokers: string[];
  clientId: string;
  dataset: ResolvedDataset;
  /** Where the golden zone lives; the sink does not close it. */
  store: ObjectStore;
  /** Local directory for Parquet files being written before they are made visible in the store. */
  workDir: string;
  log: (line: string) => void;
  partitioning?: SinkPartitioning;
  rotation?: RotationPolicy;
  compression?: ParquetCodec;
  rowGroupRows?: number;
  /** Bytes of record values held in memory, across all partitions; at this many the largest unit is committed early and reading waits. */
  maxBufferedBytes?: number;
  /** DuckDB memory limit and threads of the Parquet writer. */
  writerMemoryLimit?: string;
  writerThreads?: number;
  sessionTimeoutMs?: number;
  offsetCommitIntervalMs?: number;
  /** Longest time close() waits for units being committed before it gives up on them (they are redone at the next start). */
  closeTimeoutMs?: number;
  /** Temporary objects left by interrupted writes are removed at start once they are at least this old. */
  leftoverAgeMs?: number;
  /** Called after each unit is visible, with its files' keys (e.g. to tell the catalog); errors are logged, not fatal. */
  onCommit?: (committed: { partition: number; keys: string[]; rows: number }) => void;
  now?: () => number;
};

/** Live counts since start. */
export type SinkCounters = {
  /** Records read from the processed topic (re-reads after a restart included). */
  recordsIn: number;
  /** Records in files made visible by this sink. */
  rowsCommitted: number;
  filesCommitted: number;
  bytesCommitted: number;
  unitsCommitted: number;
  /** Records read again after a restart that were already in the lake, and so not written twice. */
  alreadyInLake: number;
  /** Records the sink could not place (bad event time, not JSON, a value that does not fit its column), by code. */
  deadLettered: Record<string, number>;
  /** Units committed, by the rule that made them due. */
  commitsBy: Record<string, number>;
  /** Wall-clock time of the last commit, epoch ms, or null. */
  lastCommitAtMs: number | null;
  /** Failed attempts to write or upload a unit (each retried). */
  retries: number;
};

/** Counters of a sink that has done nothing yet. */
export function emptySinkCounters(): SinkCounters {
  return { recordsIn: 0, rowsCommitted: 0, filesCommitted: 0, bytesCommitted: 0, unitsCommitted: 0, alreadyInLake: 0, deadLettered: {}, commitsBy: {}, lastCommitAtMs: null, retries: 0 };
}

/** Why a unit was committed: a rotation rule of one of its files, memory pressure, recovery, or shutdown. */
export type CommitReason = RotateReason | 'memory' | 'recovery' | 'close';

const DEFAULTS = {
  rotation: { flushSize: 100_000, rotateScheduleIntervalMs: 60_000 } as RotationPolicy,
  compression: 'snappy' as ParquetCodec,
  maxBufferedBytes: 64 * 1024 ** 2,
  writerMemoryLimit: '192MB',
  writerThreads: 1,
  sessionTimeoutMs: 10_000,
  offsetCommitIntervalMs: 1000,
  closeTimeoutMs: 30_000,
  leftoverAgeMs: 15 * 60_000,
};

type ResolvedSinkOptions = Required<Omit<LakeSinkOptions, 'partitioning' | 'rowGroupRows' | 'onCommit'>> & Pick<LakeSinkOptions, 'partitioning' | 'rowGroupRows' | 'onCommit'>;

const FETCH_MAX_BYTES = 8 * 1024 ** 2;
const FETCH_PARTITION_MAX_BYTES = 2 * 1024 ** 2;
/** Share of maxBufferedBytes past which the largest lane is committed without waiting for the limit. */
const COMMIT_AHEAD_SHARE = 0.5;
/** DuckDB connections of the writer: units written at once. */
const WRITER_CONNECTIONS = 2;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 10_000;

/** A record the sink could not place, kept whole: it goes to the dataset's dead-letter topic before the unit becomes visible. */
type Reject = { offset: number; timestampMs: number; key: Buffer | null; value: Buffer | null; headers: RecordHeader[]; code: string; reason: string };

/** What a held record costs in memory besides its value, roughly. */
const RECORD_OVERHEAD_BYTES = 16;
/** What a record kept whole for the dead-letter topic costs besides its value, roughly. */
const REJECT_OVERHEAD_BYTES = 200;

/** An open file: the records' values (own copies, so a fetch response is not kept alive by them) and offsets. */
type OpenFile = { path: string; trackerKey: string; lines: NdjsonLines; bytes: number };

type Unit = {
  partition: number;
  firstOffset: number;
  lastOffset: number;
  files: OpenFile[];
  rejects: Reject[];
  bytes: number;
  reason: CommitReason;
};

/**
 * The newest unit found in storage at recovery, read again: its offsets, and which lake paths already hold which of
 * them. It is committed as one unit under its own name once its last offset is read, and never cut earlier, so a lake
 * path never gets two files whose offset ranges overlap.
 */
type CatchUp = { firstOffset: number; lastOffset: number; covered: Map<string, { first: number; last: number }[]> };

type Lane = {
  partition: number;
  /** Set once storage has said where the partition stands; it is read only from then on. */
  recovered: boolean;
  /** Attempts in a row at a record batch that does not decode; the pause before the next grows with them. */
  unreadable: number;
  /** A record below this offset is already in the lake or in this lane, and is skipped. */
  nextOffset: number;
  unitFirst: number | null;
  lastSeen: number;
  open: Map<string, OpenFile>;
  rejects: Reject[];
  /** When the first of `rejects` was read (wall clock). */
  rejectsSinceMs: number;
  openBytes: number;
  catchUp: CatchUp | null;
  /** Units sealed and waiting to be made visible, oldest first. */
  sealed: Unit[];
  /** Commits the sealed units one at a time, while there are any. */
  committing: Promise<void> | null;
  /** Every record below this offset is in a visible file (or dead-lettered); -1 before the first unit. */
  doneOffset: number;
  kafkaCommitted: number;
  revoked: boolean;
};


/** The consumer group of every sink of a dataset; its committed offsets only save re-reading (storage is the truth). */
export function sinkGroupId(dataset: string): string {
  return `oxbow.sink.${dataset}`;
}

/** The part of the object keys before the first token that varies: where a topic's files can be listed. */
export function listingPrefix(pathFormat: string, topic: string): string {
  const expanded = pathFormat.replaceAll('{topic}', topic);
  const open = expanded.indexOf('{');
  const fixed = open === -1 ? expanded : expanded.slice(0, open);
  return fixed.slice(0, fixed.lastIndexOf('/') + 1);
}


export class LakeSink {
  readonly dataset: ResolvedDataset;
  readonly groupId: string;
  readonly topic: string;
  readonly counters: SinkCounters = emptySinkCounters();

  #o: ResolvedSinkOptions;
  #partitioner: Partitioner;
  /** Reads the fields that place a record (event time, field partitions); null when placing needs none. */
  #fields: ((bytes: Uint8Array) => Record<string, unknown> | null) | null;
  #mapping: ParquetSchemaMapping;
  #tracker: OpenFileTracker;
  #writer: ParquetWriter;
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  #fetcher: TopicFetcher;
  #workDir: string;
  #prefix: string;
  #lanes = new Map<number, Lane>();
  #buffered = 0;
  #capacityWaiters: (() => void)[] = [];
  #closing = false;
  #abandoned = false;
  #abandon = new AbortController();
  #pullLoop: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #offsetCommit: Promise<void> | null = null;
  #listing: Promise<Map<number, { dir: string; first: number; last: number }[]>> | null = null;
  #closed: Promise<void> | null = null;
  #lastAssignment = '';
  #fileSeq = 0;

  private constructor(o: ResolvedSinkOptions, parts: {
    partitioner: Partitioner;
    mapping: ParquetSchemaMapping;
    writer: ParquetWriter;
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
    producer: Producer<Buffer, Buffer, Buffer, Buffer>;
    fetcher: TopicFetcher;
    workDir: string;
  }) {
    this.#o = o;
    this.dataset = o.dataset;
    this.topic = o.dataset.topics.processed;
    this.groupId = sinkGroupId(o.dataset.name);
    this.#partitioner = parts.partitioner;
    this.#mapping = parts.mapping;
    this.#writer = parts.writer;
    this.#consumer = parts.consumer;
    this.#producer = parts.producer;
    this.#fetcher = parts.fetcher;
    this.#workDir = parts.workDir;
    this.#tracker = new OpenFileTracker(o.rotation, { now: o.now });
    const placing = [...(o.dataset.eventTimeField === null ? [] : [o.dataset.eventTimeField]), ...(o.partitioning?.fieldPartitions ?? [])];
    this.#fields = placing.length === 0 ? null : topLevelFieldReader(placing);
    this.#prefix = listingPrefix(parts.partitioner.pathFormat, this.topic);
  }

  /**
   * Checks the settings (a bad one throws SinkError naming it), removes what interrupted writes left, joins the group
   * `oxbow.sink.<dataset>` and starts moving records. Kafka and storage errors after that are logged and retried.
   */
  static async start(input: LakeSinkOptions): Promise<LakeSink> {
    const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    const o = { ...DEFAULTS, now: Date.now, ...defined } as ResolvedSinkOptions;
    assert(o.brokers.length > 0, 'a lake sink needs at least one bootstrap server');
    assert(Number.isSafeInteger(o.maxBufferedBytes) && o.maxBufferedBytes >= 1024, 'maxBufferedBytes must be at least 1024');
    const dataset = o.dataset;
    const partitioner = createPartitioner({ topic: dataset.topics.processed, eventTimeField: dataset.eventTimeField, ...input.partitioning });
    const mapping = mapJsonSchema(processedSchema(dataset), { eventTimeField: dataset.eventTimeField });
    new OpenFileTracker(o.rotation); // validates the rotation policy before anything starts
    const workDir = await ownWorkDir(o.workDir, dataset.name);
    const removed = await o.store.cleanupTemporary(listingPrefix(partitioner.pathFormat, dataset.topics.processed), { olderThanMs: o.leftoverAgeMs });
    if (removed > 0) o.log(`removed ${removed} leftover(s) of interrupted writes`);
    const writer = await ParquetWriter.create({ threads: o.writerThreads, memoryLimit: o.writerMemoryLimit, concurrency: WRITER_CONNECTIONS });
    const clientId = `${o.clientId}-sink-${dataset.name}`;
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId,
      groupId: sinkGroupId(dataset.name),
      bootstrapBrokers: o.brokers,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(o.sessionTimeoutMs / 3)),
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 10_000),
      autocommit: false,
      maxWaitTime: 500,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
      retries: 5,
      retryDelay: 500,
    });
    const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId, bootstrapBrokers: o.brokers, acks: ProduceAcks.ALL, autocreateTopics: false, retries: 3, retryDelay: 250 });
    // Records are read with Oxbow's own fetches (no object per record); the client keeps the group and the offsets.
    const fetcher = new TopicFetcher({ brokers: o.brokers, topic: dataset.topics.processed, clientId, maxWaitMs: 500, maxBytes: FETCH_MAX_BYTES, partitionMaxBytes: FETCH_PARTITION_MAX_BYTES, log: o.log });
    const sink = new LakeSink(o, { partitioner, mapping, writer, consumer, producer, fetcher, workDir });
    sink.#begin();
    return sink;
  }

  /** Kafka partitions of the processed topic this sink has in the current group generation. */
  get assignedPartitions(): number[] {
    const a = this.#consumer.assignments?.find((x) => x.topic === this.topic);
    return a ? [...a.partitions].sort((x, y) => x - y) : [];
  }

  /** Bytes of record values held in memory now. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Records read and not yet in a visible file, per Kafka partition. */
  pending(): { partition: number; records: number; doneOffset: number | null }[] {
    return [...this.#lanes.values()].map((l) => ({
      partition: l.partition,
      records: [...l.open.values()].reduce((n, f) => n + f.lines.length, 0) + l.rejects.length,
      doneOffset: l.doneOffset < 0 ? null : l.doneOffset,
    }));
  }

  #begin(): void {
    this.#pullLoop = this.#pull();
    this.#timers.push(setInterval(() => void this.#commitOffsets(), this.#o.offsetCommitIntervalMs));
    const schedule = this.#o.rotation.rotateScheduleIntervalMs;
    if (schedule !== undefined) {
      const tick = Math.min(1000, Math.max(20, Math.floor(schedule / 10)));
      this.#timers.push(setInterval(() => this.#rotateByClock(), tick));
    }
  }

  async #pull(): Promise<void> {
    for (let attempt = 0; !this.#closing; attempt++) {
      try {
        this.#consumer.topics.track(this.topic);
        await this.#consumer.joinGroup({});
        break;
      } catch (err) {
        if (this.#closing) return;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        this.#o.log(`joining group ${this.groupId} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        await sleep(delayMs, this.#abandon.signal);
      }
    }
    if (this.#closing) return;
    this.#consumer.on('consumer:group:join', this.#onJoin);
    this.#consumer.on('error', this.#onConsumerError);
    this.#onJoin();
    try {
      for (let parts = await this.#fetcher.next(); parts !== null; parts = await this.#fetcher.next()) {
        for (const part of parts) {
          this.#walk(part);
          if (this.#buffered >= this.#o.maxBufferedBytes * COMMIT_AHEAD_SHARE) this.#commitAhead();
          while (!this.#closing && this.#buffered >= this.#o.maxBufferedBytes && this.#relieveMemory()) {
            await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
          }
          if (this.#closing) return;
        }
      }
    } finally {
      this.#consumer.off('consumer:group:join', this.#onJoin);
    }
  }

  /** The client keeps the membership itself (it rejoins on a rebalance); what it cannot recover from is logged. */
  #onConsumerError = (err: unknown): void => {
    if (!this.#closing) this.#o.log(`the consumer of group ${this.groupId} reported: ${describeError(err)}`);
  };

  /** Places one fetched partition's records, skipping what this lane already holds or the lake has. */
  #walk(part: FetchedPartition): void {
    const lane = this.#lanes.get(part.partition);
    if (lane === undefined || !lane.recovered || lane.revoked) return;
    let placed = 0;
    try {
      forEachRecord(part.records, lane.nextOffset, (buf, offset, timestampMs, valueStart, valueLength, recordStart, recordEnd) => {
        this.#place(lane, buf, offset, timestampMs, valueStart, valueLength, recordStart, recordEnd);
        placed++;
      });
      lane.unreadable = 0;
    } catch (err) {
      if (!(err instanceof KafkaCodecError)) throw err;
      this.#unreadable(lane, err);
    } finally {
      this.counters.recordsIn += placed;
    }
  }

  /**
   * A record batch that cannot be decoded (a producer wrote a record that does not fit its batch; the CRC was right):
   * the partition stops at it, keeping what came before, and reads it again after a pause that grows, logging each
   * time. Nothing after it is skipped, since the sink cannot tell what the batch held.
   */
  #unreadable(lane: Lane, err: KafkaCodecError): void {
    this.#fetcher.remove(lane.partition);
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** lane.unreadable++);
    this.counters.retries++;
    this.#o.log(`partition ${lane.partition}: the records from offset ${lane.nextOffset} cannot be read (${err.message}); reading them again in ${delayMs} ms`);
    void sleep(delayMs, this.#abandon.signal).then(() => {
      if (!this.#closing && !lane.revoked && this.#lanes.get(lane.partition) === lane) this.#fetcher.seek(lane.partition, lane.nextOffset);
    });
  }

  #onJoin = (): void => {
    const assigned = this.assignedPartitions;
    const text = assigned.join(',');
    if (text === this.#lastAssignment) return;
    this.#lastAssignment = text;
    this.#listing = null; // partitions that come back are recovered from storage again
    this.#o.log(`assigned partitions of ${this.topic}: ${text === '' ? '(none)' : text}`);
    const set = new Set(assigned);
    for (const lane of this.#lanes.values()) {
      if (!set.has(lane.partition)) this.#revoke(lane);
    }
    for (const partition of assigned) {
      if (this.#lanes.has(partition)) continue;
      const lane: Lane = {
        partition,
        recovered: false,
        unreadable: 0,
        nextOffset: -1,
        unitFirst: null,
        lastSeen: -1,
        open: new Map(),
        rejects: [],
        rejectsSinceMs: 0,
        openBytes: 0,
        catchUp: null,
        sealed: [],
        committing: null,
        doneOffset: -1,
        kafkaCommitted: -1,
        revoked: false,
      };
      this.#lanes.set(partition, lane);
      void this.#recover(lane);
    }
  };

  /** A partition that went to another sink: what this one holds of it is dropped; the new owner recovers from storage. */
  #revoke(lane: Lane): void {
    lane.revoked = true;
    this.#lanes.delete(lane.partition);
    this.#fetcher.remove(lane.partition);
    this.#dropOpen(lane);
  }

  /** Forgets the lane's records that are not sealed in a unit; they are read again later. */
  #dropOpen(lane: Lane): void {
    for (const f of lane.open.values()) this.#tracker.close(f.trackerKey);
    this.#release(lane.openBytes);
    lane.open = new Map();
    lane.rejects = [];
    lane.openBytes = 0;
    lane.unitFirst = null;
  }

  /** Lists the topic's committed files once per group generation, grouped by Kafka partition. */
  #files(): Promise<Map<number, { dir: string; first: number; last: number }[]>> {
    this.#listing ??= (async () => {
      const byPartition = new Map<number, { dir: string; first: number; last: number }[]>();
      for await (const object of this.#o.store.list(this.#prefix)) {
        const parsed = parseDataFileName(object.key);
        if (parsed === null || parsed.topic !== this.topic) continue;
        const dir = object.key.slice(0, object.key.lastIndexOf('/') + 1);
        let list = byPartition.get(parsed.kafkaPartition);
        if (list === undefined) byPartition.set(parsed.kafkaPartition, (list = []));
        list.push({ dir, first: parsed.firstOffset, last: parsed.lastOffset });
      }
      return byPartition;
    })();
    const listing = this.#listing;
    listing.catch(() => {
      if (this.#listing === listing) this.#listing = null;
    });
    return listing;
  }

  /** Works out from storage where the partition stands, retrying storage errors, then places the records that waited. */
  async #recover(lane: Lane): Promise<void> {
    for (let attempt = 0; !this.#closing && !lane.revoked; attempt++) {
      try {
        const files = (await this.#files()).get(lane.partition) ?? [];
        if (files.length > 0) {
          let maxLast = files[0]!.last;
          for (const f of files) if (f.last > maxLast) maxLast = f.last;
          let resumeFirst = maxLast;
          for (const f of files) if (f.last === maxLast && f.first < resumeFirst) resumeFirst = f.first;
          const covered = new Map<string, { first: number; last: number }[]>();
          for (const f of files) {
            if (f.last < resumeFirst) continue;
            let ranges = covered.get(f.dir);
            if (ranges === undefined) covered.set(f.dir, (ranges = []));
            ranges.push({ first: f.first, last: f.last });
          }
          lane.nextOffset = resumeFirst;
          lane.catchUp = { firstOffset: resumeFirst, lastOffset: maxLast, covered };
          this.#o.log(`partition ${lane.partition}: the lake holds offsets up to ${maxLast}; checking ${resumeFirst}–${maxLast} against it before writing`);
        }
        break;
      } catch (err) {
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        this.#o.log(`listing ${this.#prefix} in ${this.#o.store.url} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        this.counters.retries++;
        await sleep(delayMs, this.#abandon.signal);
      }
    }
    // Reading starts where storage says the partition stands: at the newest unit's first offset, or after it when the
    // group's committed offset says that unit is whole (offsets are committed only once a unit is visible). Without
    // files, at the committed offset (a hint), else at the log's start.
    let committed: number | null = null;
    for (let attempt = 0; !this.#closing && !lane.revoked; attempt++) {
      try {
        const offset = (await this.#consumer.listCommittedOffsets({ topics: [{ topic: this.topic, partitions: [lane.partition] }] })).get(this.topic)?.[0];
        if (offset !== undefined && offset >= 0n) committed = Number(offset);
        break;
      } catch (err) {
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        this.#o.log(`reading the committed offset of partition ${lane.partition} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        await sleep(delayMs, this.#abandon.signal);
      }
    }
    const catchUp = lane.catchUp;
    let from: number | 'earliest';
    if (catchUp === null) from = committed ?? 'earliest';
    else if (committed === catchUp.lastOffset + 1) {
      // The newest unit is whole: nothing to check against it.
      lane.catchUp = null;
      lane.nextOffset = committed;
      from = committed;
    } else from = catchUp.firstOffset;
    if (this.#closing || lane.revoked) return;
    lane.recovered = true;
    this.#fetcher.seek(lane.partition, from);
  }

  #place(lane: Lane, buf: Buffer, offset: number, timestampMs: number, valueStart: number, valueLength: number, recordStart: number, recordEnd: number): void {
    if (offset < lane.nextOffset) return;
    const catchUp = lane.catchUp;
    if (catchUp !== null && offset > catchUp.lastOffset) this.#finishCatchUp(lane);
    lane.nextOffset = offset + 1;
    lane.lastSeen = offset;
    lane.unitFirst ??= offset;
    const value = valueLength < 0 ? null : buf.subarray(valueStart, valueStart + valueLength);
    const placed = this.#route(value, timestampMs);
    if (!placed.ok) {
      const { key, headers } = readRecordKeyAndHeaders(buf, recordStart, recordEnd);
      const bytes = (value?.length ?? 0) + REJECT_OVERHEAD_BYTES;
      if (lane.rejects.length === 0) lane.rejectsSinceMs = this.#o.now();
      lane.rejects.push({ offset, timestampMs, key, value: value === null ? null : Buffer.from(value), headers, code: placed.code, reason: placed.message });
      lane.openBytes += bytes;
      this.#buffered += bytes;
    } else if (catchUp !== null && offset <= catchUp.lastOffset && isCovered(catchUp.covered.get(placed.path), offset)) {
      this.counters.alreadyInLake++;
    } else {
      let file = lane.open.get(placed.path);
      if (file === undefined) lane.open.set(placed.path, (file = { path: placed.path, trackerKey: openFileKey(lane.partition, placed.path), lines: new NdjsonLines(), bytes: 0 }));
      // Copied into the file's buffers: the fetch answer the value points into can then be freed.
      file.lines.push(placed.line, offset);
      const bytes = placed.line.length + RECORD_OVERHEAD_BYTES;
      file.bytes += bytes;
      lane.openBytes += bytes;
      this.#buffered += bytes;
      const due = this.#tracker.add(file.trackerKey, placed.eventTimeMs);
      if (due !== null && lane.catchUp === null) this.#cut(lane, due);
    }
    if (catchUp !== null && lane.catchUp === catchUp && offset === catchUp.lastOffset) this.#finishCatchUp(lane);
  }

  /** The newest unit found at recovery is complete once its last offset is read: commit what it was missing, under its name. */
  #finishCatchUp(lane: Lane): void {
    const catchUp = lane.catchUp;
    assert(catchUp !== null, 'finishing a catch-up that is not running');
    lane.catchUp = null;
    if (lane.unitFirst === null) return;
    lane.unitFirst = catchUp.firstOffset;
    lane.lastSeen = catchUp.lastOffset;
    const missing = lane.open.size;
    if (missing > 0) this.#o.log(`partition ${lane.partition}: writing ${missing} file(s) of offsets ${catchUp.firstOffset}–${catchUp.lastOffset} that an interrupted commit left out`);
    this.#cut(lane, 'recovery');
  }

  #route(bytes: Buffer | null, kafkaTimestampMs: number): { ok: true; path: string; eventTimeMs: number; line: Buffer } | { ok: false; code: string; message: string } {
    if (bytes === null || bytes.length === 0) {
      return { ok: false, code: SinkRecordCode.NOT_JSON_OBJECT, message: 'the processed record has no value (a tombstone)' };
    }
    if (!isUtf8(bytes)) return { ok: false, code: SinkRecordCode.NOT_JSON_OBJECT, message: 'the processed value is not valid UTF-8' };
    let value: Record<string, unknown> = {};
    if (this.#fields !== null) {
      const fields = this.#fields(bytes);
      if (fields === null) return { ok: false, code: SinkRecordCode.NOT_JSON_OBJECT, message: notAnObject(bytes) };
      value = fields;
    } else if (bytes[0] !== 0x7b) {
      return { ok: false, code: SinkRecordCode.NOT_JSON_OBJECT, message: notAnObject(bytes) };
    }
    const where = this.#partitioner.partitionPath({ value, kafkaTimestampMs });
    if (!where.ok) return where;
    return { ok: true, path: where.path, eventTimeMs: where.eventTimeMs, line: bytes };
  }

  /**
   * Seals the lane's open files as one unit (the records that come next go to new files) and commits it after the
   * lane's earlier units: units of a partition become visible strictly in offset order.
   */
  #cut(lane: Lane, reason: CommitReason): void {
    if (lane.unitFirst === null) return;
    const unit: Unit = {
      partition: lane.partition,
      firstOffset: lane.unitFirst,
      lastOffset: lane.lastSeen,
      files: [...lane.open.values()],
      rejects: lane.rejects,
      bytes: lane.openBytes,
      reason,
    };
    for (const f of unit.files) this.#tracker.close(f.trackerKey);
    lane.open = new Map();
    lane.rejects = [];
    lane.openBytes = 0;
    lane.unitFirst = null;
    lane.sealed.push(unit);
    if (lane.committing === null) lane.committing = this.#commitSealed(lane);
  }

  async #commitSealed(lane: Lane): Promise<void> {
    try {
      for (let unit = lane.sealed.shift(); unit !== undefined; unit = lane.sealed.shift()) {
        try {
          await this.#commitUnit(lane, unit);
        } finally {
          this.#release(unit.bytes);
        }
      }
    } finally {
      lane.committing = null;
      this.#settled();
    }
  }

  /** Writes and uploads a unit, retrying failures with backoff until it is visible, the partition is revoked, or close() gives up. */
  async #commitUnit(lane: Lane, unit: Unit): Promise<void> {
    const done = new Set<OpenFile>();
    let rejectsSent = false;
    const committedKeys: string[] = [];
    let committedRows = 0;
    for (let attempt = 0; ; attempt++) {
      if (lane.revoked || this.#abandoned) return;
      try {
        // Records the writer refuses go to the dead-letter topic too: a file is written without them.
        const staged: { file: OpenFile; local: string; key: string; rows: number; bytes: number }[] = [];
        try {
          // The unit's files are written side by side (the writer runs as many at once as it has connections).
          const written = await Promise.all(
            unit.files.filter((file) => !done.has(file)).map(async (file) => {
              const key = `${file.path}${dataFileName(this.topic, unit.partition, unit.firstOffset, unit.lastOffset, this.#o.compression)}`;
              const local = path.join(this.#workDir, `${unit.partition}-${this.#fileSeq++}.parquet`);
              try {
                return { file, local, key, result: await this.#writeFile(file, local, unit) };
              } catch (err) {
                await rm(local, { force: true });
                throw err;
              }
            }),
          );
          for (const w of written) {
            if (w.result === null) done.add(w.file);
            else staged.push({ file: w.file, local: w.local, key: w.key, rows: w.result.rows, bytes: w.result.bytes });
          }
          if (!rejectsSent && unit.rejects.length > 0) {
            await this.#deadLetter(unit.partition, unit.rejects);
            rejectsSent = true;
          }
          for (const s of staged) {
            if (lane.revoked || this.#abandoned) return;
            await this.#o.store.put(s.key, { path: s.local });
            done.add(s.file);
            committedKeys.push(s.key);
            committedRows += s.rows;
            this.counters.filesCommitted++;
            this.counters.rowsCommitted += s.rows;
            this.counters.bytesCommitted += s.bytes;
          }
        } finally {
          await Promise.all(staged.map((s) => rm(s.local, { force: true })));
        }
        if (attempt > 0) this.#o.log(`partition ${unit.partition}: offsets ${unit.firstOffset}–${unit.lastOffset} committed after ${attempt} retr${attempt === 1 ? 'y' : 'ies'}`);
        this.counters.unitsCommitted++;
        this.counters.commitsBy[unit.reason] = (this.counters.commitsBy[unit.reason] ?? 0) + 1;
        this.counters.lastCommitAtMs = this.#o.now();
        if (unit.lastOffset + 1 > lane.doneOffset) lane.doneOffset = unit.lastOffset + 1;
        if (this.#o.onCommit !== undefined && committedKeys.length > 0) {
          try {
            this.#o.onCommit({ partition: unit.partition, keys: committedKeys, rows: committedRows });
          } catch (err) {
            this.#o.log(`the commit listener failed: ${describeError(err)}`);
          }
        }
        return;
      } catch (err) {
        if (lane.revoked || this.#abandoned) return;
        this.counters.retries++;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        this.#o.log(`partition ${unit.partition}: committing offsets ${unit.firstOffset}–${unit.lastOffset} failed: ${commitFailure(err, this.#o.writerMemoryLimit)}; retrying in ${delayMs} ms (reading pauses while the buffer is full)`);
        await sleep(delayMs, this.#abandon.signal);
      }
    }
  }

  /**
   * Writes one file; a value that does not fit its column (a non-retryable write error) is found by writing each record
   * alone, moved to the unit's dead letters, and the file is written without it. Null when no record is left.
   */
  async #writeFile(file: OpenFile, local: string, unit: Unit): Promise<{ rows: number; bytes: number } | null> {
    const options = { compression: this.#o.compression, stats: false, ...(this.#o.rowGroupRows === undefined ? {} : { rowGroupRows: this.#o.rowGroupRows }) };
    try {
      return await this.#writer.write(file.lines, this.#mapping, local, options);
    } catch (err) {
      if (!(err instanceof SinkError) || err.retryable) throw err;
      const keep: number[] = [];
      for (let i = 0; i < file.lines.length; i++) {
        try {
          await this.#writer.write([file.lines.line(i)], this.#mapping, local, options);
          keep.push(i);
        } catch (one) {
          if (!(one instanceof SinkError) || one.retryable) throw one;
          const offset = file.lines.offset(i);
          const value = file.lines.value(i);
          unit.rejects.push({
            offset,
            timestampMs: 0,
            key: null,
            value: Buffer.from(value),
            headers: [],
            code: SinkRecordCode.UNWRITABLE_RECORD,
            reason: one.message.replace(/^writing \S+ failed: /, ''),
          });
        }
      }
      this.#o.log(`partition ${unit.partition}: ${file.lines.length - keep.length} record(s) of ${file.path} do not fit their columns; they go to ${this.dataset.topics.dlq}`);
      file.lines = file.lines.select(keep);
      if (file.lines.length === 0) return null;
      return this.#writer.write(file.lines, this.#mapping, local, options);
    }
  }

  async #deadLetter(partition: number, rejects: Reject[]): Promise<void> {
    const messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = rejects.map((r) => {
      const headers = deadLetterHeaders(
        { code: r.code, message: r.reason, step: 'sink' },
        {
          key: r.key,
          value: r.value,
          headers: r.headers,
          topic: this.topic,
          partition,
          offset: BigInt(r.offset),
          timestamp: BigInt(r.timestampMs),
        },
        this.dataset,
        this.#o.now(),
      );
      const map = new Map<Buffer, Buffer>();
      for (const h of headers) map.set(Buffer.from(h.key, 'utf8'), h.value as Buffer);
      const out: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = { topic: this.dataset.topics.dlq, headers: map };
      if (r.key) out.key = r.key;
      if (r.value) out.value = r.value;
      return out;
    });
    await this.#producer.send({ messages });
    for (const r of rejects) this.counters.deadLettered[r.code] = (this.counters.deadLettered[r.code] ?? 0) + 1;
    this.#o.log(`${rejects.length} record(s) of ${this.topic} could not be placed in the lake and went to ${this.dataset.topics.dlq} (${[...new Set(rejects.map((r) => r.code))].join(', ')})`);
  }

  #rotateByClock(): void {
    if (this.#closing) return;
    for (const key of this.#tracker.dueByClock()) {
      const lane = this.#lanes.get(Number(key.slice(0, key.indexOf('|'))));
      if (lane !== undefined && lane.catchUp === null) this.#cut(lane, 'rotateSchedule');
    }
    // A partition that got only records it cannot place has no open file to rotate: its dead letters go out on the
    // same schedule.
    const schedule = this.#o.rotation.rotateScheduleIntervalMs;
    if (schedule === undefined) return;
    const now = this.#o.now();
    for (const lane of this.#lanes.values()) {
      if (lane.open.size === 0 && lane.rejects.length > 0 && lane.catchUp === null && now - lane.rejectsSinceMs >= schedule) this.#cut(lane, 'rotateSchedule');
    }
  }

  /**
   * Past part of the memory limit: the lane holding the most is committed while reading goes on, so that writing a
   * unit overlaps reading the next records instead of reading stopping at the limit until a write is done. At most as
   * many units are written at once as the writer has connections.
   */
  #commitAhead(): void {
    let writing = 0;
    let largest: Lane | undefined;
    for (const lane of this.#lanes.values()) {
      if (lane.committing !== null) writing++;
      if (lane.committing === null && lane.unitFirst !== null && lane.catchUp === null && (largest === undefined || lane.openBytes > largest.openBytes)) largest = lane;
    }
    // A lane holding little would make small files; those wait for their rotation or the limit.
    if (largest !== undefined && writing < WRITER_CONNECTIONS && largest.openBytes >= this.#o.maxBufferedBytes / 16) this.#cut(largest, 'memory');
  }

  /**
   * Over the memory limit: commit the lane holding the most, so reading can go on. False when nothing can be committed
   * (only catch-ups hold memory; they end once read to their last offset, so reading goes on past the limit).
   */
  #relieveMemory(): boolean {
    let largest: Lane | undefined;
    for (const lane of this.#lanes.values()) {
      if (lane.unitFirst !== null && lane.catchUp === null && (largest === undefined || lane.openBytes > largest.openBytes)) largest = lane;
    }
    if (largest !== undefined) this.#cut(largest, 'memory');
    return largest !== undefined || [...this.#lanes.values()].some((l) => l.committing !== null);
  }

  #release(bytes: number): void {
    this.#buffered -= bytes;
    assert(this.#buffered >= 0, 'buffered bytes never go below zero');
    if (this.#buffered < this.#o.maxBufferedBytes || this.#closing) this.#wake();
  }

  #wake(): void {
    const waiters = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const w of waiters) w();
  }

  #settledWaiters: (() => void)[] = [];

  #settled(): void {
    if ([...this.#lanes.values()].some((l) => l.committing !== null)) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const w of waiters) w();
  }

  /** Commits, per assigned partition, the offset below which everything is in visible files. */
  #commitOffsets(): Promise<void> {
    if (this.#offsetCommit) return this.#offsetCommit;
    const run = async () => {
      const assigned = new Set(this.assignedPartitions);
      const due = [...this.#lanes.values()].filter((l) => assigned.has(l.partition) && l.doneOffset > l.kafkaCommitted);
      if (due.length === 0) return;
      const offsets = due.map((lane) => ({ lane, offset: lane.doneOffset }));
      try {
        await this.#consumer.commit({ offsets: offsets.map((o) => ({ topic: this.topic, partition: o.lane.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
        for (const o of offsets) if (o.offset > o.lane.kafkaCommitted) o.lane.kafkaCommitted = o.offset;
      } catch (err) {
        this.#o.log(`committing offsets of ${this.groupId} failed: ${describeError(err)}; retrying at the next commit`);
      }
    };
    this.#offsetCommit = run().finally(() => {
      this.#offsetCommit = null;
    });
    return this.#offsetCommit;
  }

  /**
   * Stops reading, commits every open file (waiting at most closeTimeoutMs for storage), commits the Kafka offsets,
   * leaves the group and closes the clients and the writer. What could not be committed in time is redone at the next start.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    this.#wake();
    await this.#fetcher.close();
    await this.#pullLoop;
    // Open files are committed. A catch-up not read to its end is dropped: it is read again at the next start.
    for (const lane of this.#lanes.values()) {
      if (!lane.recovered) continue;
      if (lane.catchUp === null) this.#cut(lane, 'close');
      else this.#dropOpen(lane);
    }
    const settled = new Promise<void>((resolve) => {
      this.#settledWaiters.push(resolve);
      this.#settled();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#o.closeTimeoutMs);
    });
    const result = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.#o.log(`files still not committed after ${this.#o.closeTimeoutMs} ms; their records stay uncommitted and are written at the next start`);
      this.#abandoned = true;
      this.#abandon.abort();
      await settled;
    }
    this.#abandon.abort();
    await this.#offsetCommit;
    await this.#commitOffsets();
    this.#consumer.off('error', this.#onConsumerError);
    try {
      await this.#consumer.close(true);
    } catch (err) {
      this.#o.log(`leaving group ${this.groupId} failed: ${describeError(err)}`);
    }
    await this.#producer.close().catch((err: unknown) => this.#o.log(`closing the producer failed: ${describeError(err)}`));
    this.#writer.closeSync();
    await rm(this.#workDir, { recursive: true, force: true });
  }
}

/** Why a value the field reader refused is not a JSON object, in the words of JSON.parse where it has them. */
function notAnObject(bytes: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return `the processed value is not JSON: ${(err as Error).message}`;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? 'the processed value is not a JSON object' : 'the processed value is JSON but not an object';
}

function isCovered(ranges: { first: number; last: number }[] | undefined, offset: number): boolean {
  if (ranges === undefined) return false;
  for (const r of ranges) if (offset >= r.first && offset <= r.last) return true;
  return false;
}

/**
 * A private directory for this process's staged files, `<workDir>/<dataset>-<pid>`; those of processes that are gone
 * (a crash) are removed.
 */
async function ownWorkDir(workDir: string, dataset: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const prefix = `${dataset}-`;
  for (const name of await readdir(workDir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await rm(path.join(workDir, name), { recursive: true, force: true });
  }
  const own = path.join(workDir, `${prefix}${process.pid}`);
  await rm(own, { recursive: true, force: true });
  await mkdir(own, { recursive: true });
  return own;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why a commit failed, in one line. DuckDB running out of its memory limit explains itself over several lines of
 * statements a user of the sink cannot run; the setting that helps is named instead.
 */
function commitFailure(err: unknown, writerMemoryLimit: string): string {
  const text = describeError(err);
  if (!/Out of Memory Error/.test(text)) return text;
  return `${text.split('\n')[0]!.trim()}; if this repeats, raise sink.writerMemoryLimit (now ${writerMemoryLimit}) or lower sink.flushSize`;
}
