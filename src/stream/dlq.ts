// Dead-letter tools: read a dataset's dlq topic to see what went wrong, and send dead letters back to its raw topic.
import { randomUUID } from 'node:crypto';
import type { MessagesStream } from '@platformatic/kafka';
import { kafka } from '../kafka-client.ts';
import { committedOffsets, logRanges, setCommittedOffsets, topicPartitions, type LogRange, type StreamAdmin } from './admin.ts';
import type { ResolvedDataset } from './dataset.ts';
import { DeadLetterHeader } from './dead-letter.ts';

/** How the dead-letter tools reach the Kafka cluster with their own consumer and producer. */
export type KafkaClientOptions = { bootstrapBrokers: string[]; clientId: string };

/** Headers in this namespace were added by Oxbow; redrive strips them so the record goes back as it first came in. */
export const OXBOW_HEADER_PREFIX = 'oxbow.';

/** A dead letter's code when its `oxbow.error.code` header is missing (it was written by something else). */
export const UNKNOWN_CODE = '(no code)';

export type DeadLetter = {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Every header, in order, as written (a name may repeat). */
  headers: [Buffer, Buffer][];
  code: string;
  step: string | null;
  message: string | null;
};

/** Group whose committed offsets on the dlq topic say how far `oxbow dlq redrive` of every code has got. */
export function redriveGroupId(dataset: string): string {
  return `oxbow.dlq-redrive.${dataset}`;
}

/** Group that records how far `oxbow dlq redrive --code <code>` has got. */
export function redriveCodeGroupId(dataset: string, code: string): string {
  return `${redriveGroupId(dataset)}.${code}`;
}

/** Most time spent waiting for the next record before reading stops and the result is marked incomplete. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

type ReadOptions = {
  topic: string;
  /** Per partition, the first offset to read and the offset to stop before (both known when reading starts). */
  ranges: Map<number, { from: bigint; until: bigint }>;
  idleTimeoutMs?: number;
  /** Called in order within each partition; returns false to stop reading. */
  onLetter: (letter: DeadLetter) => boolean | Promise<boolean>;
};

/**
 * Reads the given offset ranges once, through a private consumer group that commits nothing. Returns `complete: false`
 * when it gave up waiting (no record for `idleTimeoutMs` before every range was read), so callers can say so.
 */
export async function readDeadLetters(clients: KafkaClientOptions, options: ReadOptions): Promise<{ complete: boolean }> {
  const pending = new Map([...options.ranges].filter(([, r]) => r.from < r.until));
  if (pending.size === 0) return { complete: true };
  const { Consumer } = await kafka();
  const consumer = new Consumer({
    clientId: `${clients.clientId}-dlq-reader`,
    groupId: `oxbow-dlq-reader-${randomUUID()}`,
    bootstrapBrokers: clients.bootstrapBrokers,
    maxWaitTime: 500,
  });
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let idle: NodeJS.Timeout | undefined;
  let timedOut = false;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      if (stream) void stream.close();
    }, idleTimeoutMs);
  };
  try {
    armIdle();
    stream = await consumer.consume({
      topics: [options.topic],
      mode: 'manual',
      offsets: [...pending].map(([partition, r]) => ({ topic: options.topic, partition, offset: r.from })),
      autocommit: false,
    });
    if (timedOut) return { complete: false };
    for await (const m of stream) {
      armIdle();
      const range = pending.get(m.partition);
      if (range === undefined || m.offset < range.from) continue;
      if (m.offset >= range.until) {
        pending.delete(m.partition);
      } else {
        if (m.offset + 1n >= range.until) pending.delete(m.partition);
        if (!(await options.onLetter(toDeadLetter(m)))) return { complete: true };
      }
      if (pending.size === 0) return { complete: true };
    }
    return { complete: pending.size === 0 };
  } finally {
    clearTimeout(idle);
    if (stream) await stream.close();
    await consumer.close(true);
  }
}

type RawMessage = { partition: number; offset: bigint; timestamp: bigint; key: unknown; value: unknown; headerEntries: [Buffer, Buffer][] };

function toDeadLetter(m: RawMessage): DeadLetter {
  const headers = m.headerEntries.map(([k, v]): [Buffer, Buffer] => [Buffer.from(k ?? []), Buffer.from(v ?? [])]);
  const header = (name: string) => {
    const found = headers.find(([k]) => k.toString('utf8') === name);
    return found ? found[1].toString('utf8') : null;
  };
  return {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: Buffer.isBuffer(m.key) && m.key.length > 0 ? m.key : null,
    value: Buffer.isBuffer(m.value) ? m.value : null,
    headers,
    code: header(DeadLetterHeader.CODE) ?? UNKNOWN_CODE,
    step: header(DeadLetterHeader.STEP),
    message: header(DeadLetterHeader.MESSAGE),
  };
}

export type DeadLetterSample = { partition: number; offset: bigint; message: string | null; value: Buffer | null };
export type CodeSummary = { code: string; count: number; steps: Map<string, number>; samples: DeadLetterSample[] };
export type InspectResult = { topic: string; ranges: Map<number, LogRange>; total: bigint; read: number; complete: boolean; codes: CodeSummary[] };

/** Counts the dead letters of a dataset by code, from the beginning of its dlq topic, with the first `samples` of each code. */
export async function inspectDeadLetters(
  admin: StreamAdmin,
  clients: KafkaClientOptions,
  dataset: ResolvedDataset,
  options: { max?: number | undefined; samples?: number; idleTimeoutMs?: number } = {},
): Promise<InspectResult> {
  const topic = dataset.topics.dlq;
  const ranges = await logRanges(admin, topic, await topicPartitions(admin, topic));
  const total = [...ranges.values()].reduce((n, r) => n + (r.end - r.start), 0n);
  const samples = options.samples ?? 3;
  const byCode = new Map<string, CodeSummary>();
  let read = 0;
  const { complete } = await readDeadLetters(clients, {
    topic,
    ranges: new Map([...ranges].map(([p, r]) => [p, { from: r.start, until: r.end }])),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    onLetter: (letter) => {
      read++;
      let summary = byCode.get(letter.code);
      if (!summary) {
        summary = { code: letter.code, count: 0, steps: new Map(), samples: [] };
        byCode.set(letter.code, summary);
      }
      summary.count++;
      const step = letter.step ?? '(no step)';
      summary.steps.set(step, (summary.steps.get(step) ?? 0) + 1);
      if (summary.samples.length < samples) summary.samples.push({ partition: letter.partition, offset: letter.offset, message: letter.message, value: letter.value });
      return options.max === undefined || read < options.max;
    },
  });
  const codes = [...byCode.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
  return { topic, ranges, total, read, complete, codes };
}

export type RedriveResult = {
  dlqTopic: string;
  rawTopic: string;
  /** The group whose committed offsets now record how far this redrive got. */
  groupId: string;
  /** Records sent to the raw topic, by code. */
  sent: Map<string, number>;
  /** Dead letters passed over: another code than --code, or already sent by an earlier `redrive --code`. */
  skipped: number;
  complete: boolean;
};

/** Records sent per produce request, each acknowledged by all in-sync replicas before its progress is committed. */
const REDRIVE_BATCH_RECORDS = 500;

/**
 * Sends dead letters back to the raw topic with their original key, value, timestamp and headers (without the `oxbow.*`
 * ones), and commits how far it got after each acknowledged batch, so a second redrive sends only newer letters.
 * Progress of all codes lives in group `oxbow.dlq-redrive.<dataset>`; of one code (`code` set) in
 * `oxbow.dlq-redrive.<dataset>.<code>`, which a later redrive of every code also honours. A crash between a batch and
 * its commit sends that batch again on the next redrive (at least once, like the stream job).
 */
export async function redriveDeadLetters(
  admin: StreamAdmin,
  clients: KafkaClientOptions,
  dataset: ResolvedDataset,
  options: { code?: string | undefined; max?: number | undefined; idleTimeoutMs?: number } = {},
): Promise<RedriveResult> {
  const dlqTopic = dataset.topics.dlq;
  const rawTopic = dataset.topics.raw;
  const partitions = await topicPartitions(admin, dlqTopic);
  await topicPartitions(admin, rawTopic);
  const ranges = await logRanges(admin, dlqTopic, partitions);
  const allGroup = redriveGroupId(dataset.name);
  const groupId = options.code === undefined ? allGroup : redriveCodeGroupId(dataset.name, options.code);
  const allDone = await committedOffsets(admin, allGroup, dlqTopic, partitions);
  // Per code, how far `redrive --code` got; fetched the first time a letter of that code is seen.
  const codeDone = new Map<string, Promise<Map<number, bigint>>>();
  const doneFor = (code: string) => {
    let done = codeDone.get(code);
    if (!done) {
      done = committedOffsets(admin, redriveCodeGroupId(dataset.name, code), dlqTopic, partitions);
      codeDone.set(code, done);
    }
    return done;
  };
  const own = options.code === undefined ? allDone : await doneFor(options.code);
  const readRanges = new Map<number, { from: bigint; until: bigint }>();
  for (const [p, r] of ranges) {
    let from = r.start;
    for (const done of [allDone.get(p) ?? -1n, own.get(p) ?? -1n]) if (done > from) from = done;
    readRanges.set(p, { from, until: r.end });
  }

  const { Producer, ProduceAcks } = await kafka();
  const producer = new Producer({ clientId: `${clients.clientId}-dlq-redrive`, bootstrapBrokers: clients.bootstrapBrokers, acks: ProduceAcks.ALL, retries: 3 });
  const sent = new Map<string, number>();
  let skipped = 0;
  let sentTotal = 0;
  let batch: { letter: DeadLetter }[] = [];
  // Next offset to read per partition, committed once every record before it is acknowledged.
  const progress = new Map<number, bigint>();
  const flush = async () => {
    if (batch.length > 0) {
      await producer.send({
        messages: batch.map(({ letter }) => ({
          topic: rawTopic,
          ...(letter.key === null ? {} : { key: letter.key }),
          ...(letter.value === null ? {} : { value: letter.value }),
          timestamp: letter.timestamp,
          headers: new Map(letter.headers.filter(([k]) => !k.toString('utf8').startsWith(OXBOW_HEADER_PREFIX))),
        })),
      });
      for (const { letter } of batch) sent.set(letter.code, (sent.get(letter.code) ?? 0) + 1);
      batch = [];
    }
    await setCommittedOffsets(admin, groupId, dlqTopic, progress);
    progress.clear();
  };
  let complete: boolean;
  try {
    ({ complete } = await readDeadLetters(clients, {
      topic: dlqTopic,
      ranges: readRanges,
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      onLetter: async (letter) => {
        progress.set(letter.partition, letter.offset + 1n);
        const wanted = options.code === undefined ? letter.offset >= ((await doneFor(letter.code)).get(letter.partition) ?? -1n) : letter.code === options.code;
        if (!wanted) {
          skipped++;
        } else {
          batch.push({ letter });
          sentTotal++;
        }
        if (batch.length >= REDRIVE_BATCH_RECORDS) await flush();
        return options.max === undefined || sentTotal < options.max;
      },
    }));
    await flush();
  } finally {
    await producer.close();
  }
  return { dlqTopic, rawTopic, groupId, sent, skipped, complete };
}
