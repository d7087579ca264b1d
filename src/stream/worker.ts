// A stream worker: one member of a dataset's consumer group, moving records from raw to processed or dlq, at least once.
//
// Invariant behind every offset commit: a partition's committed offset c means every record below c has its output
// (processed or dead letter) acknowledged by the cluster with acks=all, or was counted as filtered. Each lane below
// handles one raw partition strictly in offset order and only advances `doneOffset` after the outputs of a whole batch
// are acknowledged, so committing `doneOffset` keeps the invariant; a crash anywhere only causes records to be redone.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Consumer, Message, MessagesStream, MessageToProduce, Producer } from '@platformatic/kafka';
import { describeError, sleep } from '../async.ts';
import { assert } from '../errors.ts';
import { kafka } from '../kafka-client.ts';
import type { ResolvedDataset } from './dataset.ts';
import { deadLetterHeaders } from './dead-letter.ts';
import { compilePipeline, processGuarded, type Outcome, type Pipeline, type SourceRecord, type StreamCounters } from './pipeline.ts';
import { streamGroupId, streamStatusPath } from './runtime-names.ts';
import { StepPool, StepPoolClosed, type SliceOutcomes } from './step-pool.ts';
import type { StreamHeader } from './steps.ts';

export type StreamWorkerOptions = {
  /** Bootstrap servers, host:port. */
  brokers: string[];
  clientId: string;
  dataset: ResolvedDataset;
  /** Directory of status files (the `stream.stateDir` setting). */
  stateDir: string;
  /** Names this worker in its status file; defaults to `<hostname>-<pid>-<random>`. */
  workerId?: string;
  /** One line per event worth telling an operator: start, assignments, Kafka errors and retries, stop. */
  log: (line: string) => void;
  sessionTimeoutMs?: number;
  maxInFlightRecords?: number;
  maxInFlightBytes?: number;
  offsetCommitIntervalMs?: number;
  /** Partitions of the raw topic when the worker has to create it (processed and dlq always get the raw topic's count). */
  topicPartitions?: number;
  statusIntervalMs?: number;
  /** Longest time close() waits for outputs still being sent before it gives up on them (they are redone later). */
  closeTimeoutMs?: number;
  /** Wall clock, epoch milliseconds; used for dead-letter times and the status file. */
  now?: () => number;
  /**
   * Threads that run the dataset's steps while this thread reads and writes Kafka (the `stream.stepThreads` setting);
   * 0 runs them on this thread. Each step thread loads the dataset from `configSource`, so more than 0 needs it.
   */
  stepThreads?: number;
  /** Where the dataset was declared, for step threads to load it again: the config file as given, and the directory it is looked up from. */
  configSource?: { configFile: string | undefined; cwd: string } | null;
};

/** The content of a worker's status file, `<stateDir>/<dataset>/<workerId>.json`. */
export type StreamWorkerStatus = {
  workerId: string;
  pid: number;
  dataset: string;
  state: 'running' | 'stopped';
  startedAt: string;
  updatedAt: string;
  assignments: { topic: string; partitions: number[] }[];
  counters: StreamCounters;
  /** Per assigned raw partition: end offset minus committed offset, when both are known. */
  lag: { partition: number; committedOffset: number | null; endOffset: number; lag: number | null }[];
};

const DEFAULTS = {
  sessionTimeoutMs: 10_000,
  maxInFlightRecords: 20_000,
  maxInFlightBytes: 64 * 1024 ** 2,
  offsetCommitIntervalMs: 1000,
  topicPartitions: 1,
  statusIntervalMs: 1000,
  closeTimeoutMs: 30_000,
  stepThreads: 0,
  configSource: null,
};

/**
 * Bytes one fetch may return, in all and per partition. The client's default (50 MB) makes each fetch a burst that
 * takes seconds to decode while nothing else runs, then leaves the worker idle until its buffer drains; fetches of a
 * few in-flight limits' worth keep reading, processing and producing overlapped.
 */
const FETCH_MAX_BYTES = 4 * 1024 ** 2;
const FETCH_PARTITION_MAX_BYTES = 1024 ** 2;
/** Records the consumer may hold read ahead; the in-flight limits still bound what is taken from it. */
const CONSUMER_BUFFER_RECORDS = 16_384;
/** Records in one batch of a lane at most: processed, then sent together. */
const LANE_BATCH_RECORDS = 4000;
/** Records processed between two looks at whether the send in flight is acknowledged. */
const LANE_SLICE_RECORDS = 500;
/** Slices of a lane at the step threads at once: while the lane takes in one slice's outcomes, the threads run the next. */
const STEP_SLICES_AHEAD = 2;
/**
 * Bytes of keys, values and headers in one produce request at most. The client writes a send's records of a partition
 * as one record batch, and a broker refuses a batch over the topic's max.message.bytes (1 MiB by default, in Kafka
 * too) with an error that a retry cannot fix; a lane's batch of larger records is therefore sent in several requests,
 * one after the other, which keeps their order.
 */
const SEND_MAX_BYTES = 768 * 1024;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * A record read and not yet done: the source record the steps see, with what the lane needs besides. One object per
 * record rather than a wrapper around it: in-flight records are what survives the young generation's collections on
 * this thread, and each object more is copied by every one of them.
 */
type Pending = SourceRecord & { leaderEpoch: number; bytes: number };
/** A processed batch of a lane and the send of its outputs (null when every record was filtered out). */
type LaneSend = {
  sent: Promise<boolean> | null;
  batch: Pending[];
  bytes: number;
  /** The step threads' reply buffers the batch's processed values are views into, given back once acknowledged. */
  replies: ArrayBuffer[];
};

/** The work of one raw partition: records in offset order, processed and produced one batch at a time. */
type Lane = {
  partition: number;
  queue: Pending[];
  running: boolean;
  /** Next offset this lane expects; a record below it is already here (a re-delivery after a rebalance) and is skipped. */
  nextOffset: bigint;
  /** Every record below this offset has its outputs acknowledged (or was filtered). -1n before the first batch. */
  doneOffset: bigint;
  doneLeaderEpoch: number;
  /** Last offset committed by this worker for the partition; -1n when none. */
  committedOffset: bigint;
  /** Slices taken from the queue and handed to the step threads, oldest first (always empty without step threads). */
  started: { slice: Pending[]; outcomes: Promise<SliceOutcomes> }[];
};

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;
/** The headers of every record that has none: shared, never changed. */
const NO_HEADERS: readonly StreamHeader[] = Object.freeze([]);
type OutputMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;


/** Bytes of a message's key, value and headers. */
function messageBytes(m: OutputMessage): number {
  let size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  if (m.headers instanceof Map) for (const [k, v] of m.headers) size += (k as Buffer).length + ((v as Buffer | undefined)?.length ?? 0);
  return size;
}

function headerMap(headers: readonly StreamHeader[]): Map<Buffer, Buffer> {
  // Keys are distinct Buffer objects, so a header name that repeats keeps every occurrence, in order.
  const map = new Map<Buffer, Buffer>();
  for (const h of headers) map.set(Buffer.from(h.key, 'utf8'), h.value as Buffer);
  return map;
}

export class StreamWorker {
  readonly workerId: string;
  readonly dataset: ResolvedDataset;
  readonly groupId: string;
  readonly statusFile: string;

  #options: Required<Omit<StreamWorkerOptions, 'workerId'>>;
  /** The steps on this thread, or null when they run on step threads (#steps). */
  #pipeline: Pipeline | null;
  #steps: StepPool | null;
  #counters: StreamCounters = { recordsIn: 0, processed: 0, filtered: {}, deadLettered: {} };
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  #partitionCounts: { processed: number; dlq: number };
  #startedAt: Date;
  #lanes = new Map<number, Lane>();
  #inFlightRecords = 0;
  #inFlightBytes = 0;
  #capacityWaiters: (() => void)[] = [];
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #closing = false;
  /** Set when close() stops waiting for outputs: sends in progress give up and their records stay uncommitted. */
  #abandoned = false;
  #abandon = new AbortController();
  #pullLoop: Promise<void> = Promise.resolve();
  #commitTimer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #offsetCommit: Promise<void> | null = null;
  #statusWrite: Promise<void> | null = null;
  #lag: StreamWorkerStatus['lag'] = [];
  #closed: Promise<void> | null = null;
  #lastAssignment = '';

  private constructor(options: Required<Omit<StreamWorkerOptions, 'workerId'>>, workerId: string, steps: { pipeline: Pipeline | null; pool: StepPool | null }, clients: {
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
    producer: Producer<Buffer, Buffer, Buffer, Buffer>;
    partitionCounts: { processed: number; dlq: number };
  }) {
    this.#options = options;
    this.workerId = workerId;
    this.dataset = options.dataset;
    this.groupId = streamGroupId(options.dataset.name);
    this.statusFile = streamStatusPath(options.stateDir, options.dataset.name, workerId);
    this.#pipeline = steps.pipeline;
    this.#steps = steps.pool;
    this.#consumer = clients.consumer;
    this.#producer = clients.producer;
    this.#partitionCounts = clients.partitionCounts;
    this.#startedAt = new Date(options.now());
  }

  /**
   * Compiles the dataset's pipeline, creates its topics when missing (processed and dlq with the raw topic's partition
   * count), joins the consumer group `oxbow.stream.<dataset>` and starts consuming from the committed offsets (the
   * earliest ones where none is committed). Kafka errors while starting are logged and retried until `close()`.
   */
  static async start(input: StreamWorkerOptions): Promise<StreamWorker> {
    const options = { ...DEFAULTS, now: Date.now, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as Required<StreamWorkerOptions>;
    assert(options.brokers.length > 0, 'a stream worker needs at least one bootstrap server');
    const workerId = input.workerId ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const dataset = options.dataset;
    assert(Number.isInteger(options.stepThreads) && options.stepThreads >= 0, `stepThreads ${options.stepThreads} must be a whole number, at least 0`);
    const source = options.configSource;
    assert(options.stepThreads === 0 || source !== null, 'step threads load the dataset from its configuration file: configSource is needed');
    // Step threads load the configuration while the topics are prepared; a dataset that cannot start fails here.
    const [steps, topics] = await Promise.allSettled([
      options.stepThreads > 0 && source !== null
        ? StepPool.start({ threads: options.stepThreads, configFile: source.configFile, cwd: source.cwd, dataset: dataset.name, log: options.log }).then((pool) => ({ pool, pipeline: null }))
        : compilePipeline(dataset, { onWarning: (w) => options.log(`warning: ${w.message}`) }).then((pipeline) => ({ pool: null, pipeline })),
      ensureTopics(options),
    ]);
    if (steps.status === 'rejected' || topics.status === 'rejected') {
      if (steps.status === 'fulfilled') await steps.value.pool?.close();
      throw steps.status === 'rejected' ? steps.reason : (topics as PromiseRejectedResult).reason;
    }
    const { pool, pipeline } = steps.value;
    const partitionCounts = topics.value;
    const { Consumer, Producer, ProduceAcks } = await kafka();
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: `${options.clientId}-stream-${workerId}`,
      groupId: streamGroupId(dataset.name),
      bootstrapBrokers: options.brokers,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 3)),
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      autocommit: false,
      maxWaitTime: 500,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
      retries: 5,
      retryDelay: 500,
    });
    const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId: `${options.clientId}-stream-${workerId}`,
      bootstrapBrokers: options.brokers,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      retries: 3,
      retryDelay: 250,
    });
    const worker = new StreamWorker(options, workerId, { pipeline, pool }, { consumer, producer, partitionCounts });
    worker.#begin();
    return worker;
  }

  /** Live counts since start: recordsIn = processed + filtered + dead-lettered once in-flight records settle. */
  get counters(): StreamCounters {
    return this.#counters;
  }

  /** Raw partitions of this worker in the current group generation. */
  get assignedPartitions(): number[] {
    const a = this.#consumer.assignments?.find((x) => x.topic === this.dataset.topics.raw);
    return a ? [...a.partitions].sort((x, y) => x - y) : [];
  }

  status(): StreamWorkerStatus {
    const c = this.#counters;
    return {
      workerId: this.workerId,
      pid: process.pid,
      dataset: this.dataset.name,
      state: this.#closing ? 'stopped' : 'running',
      startedAt: this.#startedAt.toISOString(),
      updatedAt: new Date(this.#options.now()).toISOString(),
      assignments: (this.#consumer.assignments ?? []).map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) })),
      counters: { recordsIn: c.recordsIn, processed: c.processed, filtered: { ...c.filtered }, deadLettered: { ...c.deadLettered } },
      lag: this.#lag,
    };
  }

  #begin(): void {
    this.#pullLoop = this.#pull();
    this.#commitTimer = setInterval(() => void this.#commitOffsets(), this.#options.offsetCommitIntervalMs);
    this.#statusTimer = setInterval(() => void this.#writeStatus(true), this.#options.statusIntervalMs);
    void this.#writeStatus(false);
  }

  /** Reads the raw topic, hands records to their partition's lane, and stops reading while too much is in flight. */
  async #pull(): Promise<void> {
    let attempt = 0;
    while (!this.#closing) {
      try {
        const stream = await this.#consumer.consume({
          topics: [this.dataset.topics.raw],
          mode: 'committed',
          fallbackMode: 'earliest',
          autocommit: false,
          maxWaitTime: 500,
          // The client fetches again only while its buffer holds fewer records than this; its default (1024) is far
          // less than one fetch, so reading would stop while a fetch is processed instead of overlapping it.
          highWaterMark: CONSUMER_BUFFER_RECORDS,
        });
        this.#stream = stream;
        if (this.#closing) {
          await stream.close();
          break;
        }
        this.#consumer.on('consumer:group:join', this.#onJoin);
        this.#onJoin();
        // Records are taken as 'data' events, synchronously as the client decodes them, rather than through an async
        // iterator (a promise and its turn per record); the stream is paused while too much is in flight.
        await new Promise<void>((resolve, reject) => {
          const resume = () => {
            if (this.#closing) resolve();
            else if (this.#overLimits()) this.#capacityWaiters.push(resume);
            else stream.resume();
          };
          stream.on('data', (message: BufferMessage) => {
            attempt = 0;
            this.#accept(message);
            if (this.#overLimits() && !stream.isPaused()) {
              stream.pause();
              this.#capacityWaiters.push(resume);
            }
          });
          stream.once('error', reject);
          stream.once('close', () => (this.#closing ? resolve() : reject(new Error('the consumer stream ended'))));
          stream.once('end', () => (this.#closing ? resolve() : reject(new Error('the consumer stream ended'))));
        });
        if (!this.#closing) throw new Error('the consumer stream ended');
      } catch (err) {
        if (this.#closing) break;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt++);
        this.#options.log(`consuming ${this.dataset.topics.raw} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        await sleep(delayMs, this.#abandon.signal);
      } finally {
        this.#consumer.off('consumer:group:join', this.#onJoin);
        const stream = this.#stream;
        this.#stream = undefined;
        if (stream && !stream.closed && !stream.destroyed) await stream.close().catch(() => undefined);
      }
    }
  }

  #onJoin = (): void => {
    const text = this.assignedPartitions.join(',');
    if (text !== this.#lastAssignment) {
      this.#lastAssignment = text;
      this.#options.log(`assigned partitions of ${this.dataset.topics.raw}: ${text === '' ? '(none)' : text}`);
    }
  };

  #overLimits(): boolean {
    return this.#inFlightRecords >= this.#options.maxInFlightRecords || this.#inFlightBytes >= this.#options.maxInFlightBytes;
  }

  #accept(m: BufferMessage): void {
    let lane = this.#lanes.get(m.partition);
    if (!lane) {
      lane = { partition: m.partition, queue: [], running: false, nextOffset: -1n, doneOffset: -1n, doneLeaderEpoch: -1, committedOffset: -1n, started: [] };
      this.#lanes.set(m.partition, lane);
    }
    // After a rebalance the consumer fetches again from the committed offset; what this lane already holds is skipped.
    if (m.offset < lane.nextOffset) return;
    lane.nextOffset = m.offset + 1n;
    const entries = m.headerEntries;
    let bytes = (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const [k, v] of entries) bytes += k.length + (v?.length ?? 0);
    lane.queue.push({
      key: m.key ?? null,
      value: m.value ?? null,
      headers: entries.length === 0 ? NO_HEADERS : entries.map(([k, v]) => ({ key: k.toString('utf8'), value: v ?? null })),
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp,
      leaderEpoch: m.leaderEpoch,
      bytes,
    });
    this.#inFlightRecords++;
    this.#inFlightBytes += bytes;
    if (!lane.running) void this.#runLane(lane);
  }

  #release(records: number, bytes: number): void {
    this.#inFlightRecords -= records;
    this.#inFlightBytes -= bytes;
    assert(this.#inFlightRecords >= 0 && this.#inFlightBytes >= 0, 'in-flight counts never go below zero');
    if (!this.#overLimits() || this.#closing) {
      const waiters = this.#capacityWaiters;
      this.#capacityWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Processes a lane's records batch by batch. While one batch's outputs are being sent, the next batch is processed
   * and keeps growing, slice by slice, until that send is acknowledged (or the batch is full): the pipeline works
   * through the wait for acknowledgements instead of idling, and the slower the round trip, the more one request
   * carries. Sends of a lane still go one at a time, in offset order, and `doneOffset` only moves past a batch once
   * its outputs are acknowledged.
   */
  async #runLane(lane: Lane): Promise<void> {
    lane.running = true;
    let sending: LaneSend | null = null;
    try {
      while (!this.#closing) {
        if (lane.queue.length === 0 && lane.started.length === 0) {
          if (sending === null) break;
          // Records that arrive while the last send is out are taken by this loop once it is acknowledged.
          const sent = await this.#settle(lane, sending);
          sending = null;
          if (!sent) break;
          continue;
        }
        let acknowledged = sending?.sent == null;
        void sending?.sent?.then(() => {
          acknowledged = true;
        });
        const batch: Pending[] = [];
        const replies: ArrayBuffer[] = [];
        let gaveUp: Pending[] | null = null;
        const messages: OutputMessage[] = [];
        let outBytes = 0;
        for (;;) {
          let slice: Pending[];
          let outcomes: Outcome[] | null = null;
          if (this.#steps !== null) {
            // The slices after this one go to the step threads before this one is awaited, so they never wait for
            // this thread to come back with the next.
            this.#startSlices(lane, this.#steps);
            const started = lane.started.shift()!;
            this.#startSlices(lane, this.#steps);
            slice = started.slice;
            try {
              const done = await started.outcomes;
              outcomes = done.outcomes;
              if (done.reply !== null) replies.push(done.reply);
            } catch (err) {
              // Only when close() stopped the step threads: these records are not committed, so they are redone later.
              assert(err instanceof StepPoolClosed, 'the step threads give every record an outcome until they are stopped');
              gaveUp = slice;
              break;
            }
          } else {
            slice = lane.queue.splice(0, Math.min(LANE_SLICE_RECORDS, LANE_BATCH_RECORDS - batch.length));
          }
          for (let i = 0; i < slice.length; i++) {
            const p = slice[i]!;
            let outcome: Outcome;
            if (outcomes !== null) {
              outcome = outcomes[i]!;
            } else {
              const pending = processGuarded(this.#pipeline!, p, this.#options.log);
              outcome = pending instanceof Promise ? await pending : pending;
            }
            this.#count(outcome);
            const out = this.#output(outcome, p);
            if (out) {
              messages.push(out);
              outBytes += messageBytes(out);
            }
            batch.push(p);
          }
          if (acknowledged || (lane.queue.length === 0 && lane.started.length === 0) || batch.length >= LANE_BATCH_RECORDS || outBytes >= SEND_MAX_BYTES || this.#closing) break;
          // Lets the acknowledgement of the send in flight (and newly fetched records) in between two slices.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const bytes = batch.reduce((n, p) => n + p.bytes, 0);
        if (gaveUp !== null) {
          this.#release(batch.length + gaveUp.length, bytes + gaveUp.reduce((n, p) => n + p.bytes, 0));
          break;
        }
        if (sending !== null) {
          const sent = await this.#settle(lane, sending);
          sending = null;
          if (!sent) {
            this.#release(batch.length, bytes);
            break;
          }
        }
        sending = { sent: messages.length === 0 ? null : this.#sendInOrder(messages, lane.partition), batch, bytes, replies };
      }
      if (sending !== null) await this.#settle(lane, sending);
    } finally {
      if (this.#closing) {
        // Records read but not started are dropped on the way out: their offsets are not committed, so they are redone.
        const rest = [...lane.started.splice(0).flatMap((s) => s.slice), ...lane.queue.splice(0)];
        if (rest.length > 0) this.#release(rest.length, rest.reduce((n, p) => n + p.bytes, 0));
      }
      lane.running = false;
      this.#laneIdle();
    }
  }

  /** Hands the lane's next records to the step threads, up to STEP_SLICES_AHEAD slices. */
  #startSlices(lane: Lane, steps: StepPool): void {
    while (lane.started.length < STEP_SLICES_AHEAD && lane.queue.length > 0) {
      const slice = lane.queue.splice(0, LANE_SLICE_RECORDS);
      const outcomes = steps.process(slice);
      // Rejected only when close() stops the threads; whoever awaits it sees that, and a slice dropped unawaited on the way out is redone.
      outcomes.catch(() => undefined);
      lane.started.push({ slice, outcomes });
    }
  }

  /** Waits for a batch's outputs; once acknowledged, the lane's done offset moves past the batch. False: close() gave up. */
  async #settle(lane: Lane, send: LaneSend): Promise<boolean> {
    const sent = send.sent === null || (await send.sent);
    if (sent) {
      // The client is done with the outputs (a send that gave up may still hold them: its buffers are not reused).
      for (const reply of send.replies) this.#steps?.giveBack(reply);
      const last = send.batch[send.batch.length - 1]!;
      const done = BigInt(last.offset) + 1n;
      assert(done > lane.doneOffset, 'a lane only moves forward');
      lane.doneOffset = done;
      lane.doneLeaderEpoch = last.leaderEpoch;
    }
    this.#release(send.batch.length, send.bytes);
    return sent;
  }

  #laneIdleWaiters: (() => void)[] = [];

  #laneIdle(): void {
    if ([...this.#lanes.values()].some((l) => l.running)) return;
    const waiters = this.#laneIdleWaiters;
    this.#laneIdleWaiters = [];
    for (const w of waiters) w();
  }

  #count(outcome: Outcome): void {
    const c = this.#counters;
    c.recordsIn++;
    if (outcome.kind === 'processed') c.processed++;
    else if (outcome.kind === 'filtered') c.filtered[outcome.rule] = (c.filtered[outcome.rule] ?? 0) + 1;
    else c.deadLettered[outcome.code] = (c.deadLettered[outcome.code] ?? 0) + 1;
  }

  #output(outcome: Outcome, source: SourceRecord): OutputMessage | null {
    const timestamp = BigInt(source.timestamp);
    if (outcome.kind === 'filtered') return null;
    if (outcome.kind === 'processed') {
      const msg: OutputMessage = { topic: this.dataset.topics.processed, partition: source.partition % this.#partitionCounts.processed, value: outcome.value, timestamp };
      if (outcome.headers.length > 0) msg.headers = headerMap(outcome.headers);
      if (outcome.key !== null) msg.key = outcome.key;
      return msg;
    }
    const msg: OutputMessage = {
      topic: this.dataset.topics.dlq,
      partition: source.partition % this.#partitionCounts.dlq,
      headers: headerMap(deadLetterHeaders(outcome, source, this.dataset, this.#options.now())),
      timestamp,
    };
    if (source.key !== null) msg.key = source.key;
    if (source.value !== null) msg.value = source.value;
    return msg;
  }

  /** Sends a lane's outputs in requests of at most SEND_MAX_BYTES, each acknowledged before the next goes. */
  async #sendInOrder(messages: OutputMessage[], partition: number): Promise<boolean> {
    let from = 0;
    while (from < messages.length) {
      let to = from;
      let bytes = 0;
      while (to < messages.length) {
        const size = messageBytes(messages[to]!);
        if (to > from && bytes + size > SEND_MAX_BYTES) break;
        bytes += size;
        to++;
      }
      const chunk = from === 0 && to === messages.length ? messages : messages.slice(from, to);
      if (!(await this.#send(chunk, partition))) return false;
      from = to;
    }
    return true;
  }

  /** Sends with acks=all until acknowledged; false only when close() gave up waiting. */
  async #send(messages: OutputMessage[], partition: number): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#producer.send({ messages });
        if (attempt > 0) this.#options.log(`producing outputs of ${this.dataset.topics.raw}/${partition} succeeded after ${attempt} retr${attempt === 1 ? 'y' : 'ies'}`);
        return true;
      } catch (err) {
        if (this.#abandoned) return false;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        this.#options.log(`producing ${messages.length} output(s) of ${this.dataset.topics.raw}/${partition} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        await sleep(delayMs, this.#abandon.signal);
        if (this.#abandoned) return false;
      }
    }
  }

  /** Commits, for each partition assigned now, the offset below which every output is acknowledged. */
  #commitOffsets(): Promise<void> {
    if (this.#offsetCommit) return this.#offsetCommit;
    const run = async () => {
      const assigned = new Set(this.assignedPartitions);
      const due = [...this.#lanes.values()].filter((l) => assigned.has(l.partition) && l.doneOffset > l.committedOffset);
      if (due.length > 0) {
        const offsets = due.map((l) => ({ lane: l, offset: l.doneOffset, leaderEpoch: l.doneLeaderEpoch }));
        try {
          await this.#consumer.commit({
            offsets: offsets.map((o) => ({ topic: this.dataset.topics.raw, partition: o.lane.partition, offset: o.offset, leaderEpoch: o.leaderEpoch })),
          });
          for (const o of offsets) if (o.offset > o.lane.committedOffset) o.lane.committedOffset = o.offset;
        } catch (err) {
          this.#options.log(`committing offsets of ${this.groupId} failed: ${describeError(err)}; retrying at the next commit`);
        }
      }
      // A lane of a partition that went to another worker is forgotten once idle; if the partition comes back, the
      // lane starts again from wherever the group's committed offset then is.
      for (const lane of this.#lanes.values()) {
        if (!assigned.has(lane.partition) && !lane.running && lane.queue.length === 0 && lane.started.length === 0) this.#lanes.delete(lane.partition);
      }
    };
    this.#offsetCommit = run().finally(() => {
      this.#offsetCommit = null;
    });
    return this.#offsetCommit;
  }

  async #refreshLag(): Promise<void> {
    const partitions = this.assignedPartitions;
    if (partitions.length === 0 || this.#closing) {
      this.#lag = [];
      return;
    }
    try {
      const topic = this.dataset.topics.raw;
      const ends = (await this.#consumer.listOffsets({ topics: [topic], partitions: { [topic]: partitions } })).get(topic) ?? [];
      this.#lag = partitions.map((p) => {
        const end = ends[p];
        const committed = this.#lanes.get(p)?.committedOffset ?? -1n;
        const endOffset = end === undefined ? -1 : Number(end);
        const committedOffset = committed >= 0n ? Number(committed) : null;
        return { partition: p, committedOffset, endOffset, lag: committedOffset === null || endOffset < 0 ? null : Math.max(0, endOffset - committedOffset) };
      });
    } catch {
      // Lag is a nicety of the status file; the next tick tries again.
    }
  }

  /** Writes the status file atomically (temporary file, then rename), so a reader never sees half of it. */
  #writeStatus(withLag: boolean): Promise<void> {
    if (this.#statusWrite) return this.#statusWrite;
    const run = async () => {
      if (withLag) await this.#refreshLag();
      const file = this.statusFile;
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(tmp, `${JSON.stringify(this.status(), null, 2)}\n`);
        await rename(tmp, file);
      } catch (err) {
        this.#options.log(`cannot write status file ${file}: ${describeError(err)}`);
      }
    };
    this.#statusWrite = run().finally(() => {
      this.#statusWrite = null;
    });
    return this.#statusWrite;
  }

  /**
   * Stops consuming, waits for outputs being sent (at most closeTimeoutMs), commits what is acknowledged, leaves the
   * group and closes the clients. Writes a last status file with state "stopped"; removes nothing.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#release(0, 0);
    const stream = this.#stream;
    if (stream && !stream.closed && !stream.destroyed) await stream.close().catch(() => undefined);
    const pullDone = this.#pullLoop;
    const drained = new Promise<void>((resolve) => {
      this.#laneIdleWaiters.push(resolve);
      this.#laneIdle();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.closeTimeoutMs);
    });
    const result = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.#options.log(`outputs still unacknowledged after ${this.#options.closeTimeoutMs} ms; their records stay uncommitted and will be processed again`);
      this.#abandoned = true;
      this.#abandon.abort();
      await this.#steps?.close();
      await drained;
    }
    await this.#steps?.close();
    // The pull loop may be sleeping between retries: wake it, it sees #closing and ends.
    this.#abandon.abort();
    await pullDone;
    clearInterval(this.#commitTimer);
    clearInterval(this.#statusTimer);
    await this.#offsetCommit;
    await this.#commitOffsets();
    try {
      await this.#consumer.close(true);
    } catch (err) {
      this.#options.log(`leaving group ${this.groupId} failed: ${describeError(err)}`);
    }
    try {
      await this.#producer.close();
    } catch (err) {
      this.#options.log(`closing the producer failed: ${describeError(err)}`);
    }
    await this.#statusWrite;
    await this.#writeStatus(false);
  }
}

/**
 * Creates the dataset's topics that do not exist: processed and dlq get the raw topic's partition count (raw, when it
 * is missing too, gets topicPartitions). Another worker creating them at the same time is fine. Retries Kafka errors,
 * logged, with backoff. Returns the partition counts of processed and dlq.
 */
async function ensureTopics(options: Required<StreamWorkerOptions>): Promise<{ processed: number; dlq: number }> {
  const { topics } = options.dataset;
  const { Admin } = await kafka();
  for (let attempt = 0; ; attempt++) {
    const admin = new Admin({ clientId: `${options.clientId}-stream-admin`, bootstrapBrokers: options.brokers, retries: 2, retryDelay: 250 });
    try {
      const counts = async () => {
        const existing = new Set(await admin.listTopics({ includeInternals: false }));
        const wanted = [topics.raw, topics.processed, topics.dlq].filter((t) => existing.has(t));
        const meta = wanted.length === 0 ? new Map<string, { partitionsCount: number }>() : (await admin.metadata({ topics: wanted, forceUpdate: true })).topics;
        return new Map([...meta].map(([t, m]) => [t, m.partitionsCount]));
      };
      let have = await counts();
      const rawPartitions = have.get(topics.raw) ?? options.topicPartitions;
      const missing = [topics.raw, topics.processed, topics.dlq].filter((t) => !have.has(t));
      if (missing.length > 0) {
        try {
          await admin.createTopics({ topics: missing, partitions: rawPartitions, replicas: -1 });
          options.log(`created topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} with ${rawPartitions} partition(s)`);
        } catch (err) {
          // Another worker may have created them first; that is only a failure if they are still missing.
          have = await counts();
          if (missing.some((t) => !have.has(t))) throw err;
        }
        have = await counts();
      }
      const processed = have.get(topics.processed);
      const dlq = have.get(topics.dlq);
      assert(processed !== undefined && dlq !== undefined, 'the output topics exist after creation');
      return { processed, dlq };
    } catch (err) {
      const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
      options.log(`preparing topics of dataset ${options.dataset.name} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
      await new Promise((r) => setTimeout(r, delayMs));
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}
