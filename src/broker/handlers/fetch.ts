// Fetch: serves whole stored batches from many partitions, long-polling (max_wait_ms, min_bytes) without busy-waiting.
import { FetchApi, type FetchPartitionData, type FetchRequest, type FetchResponse } from '../../kafka/apis/fetch.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { readBatchHeader } from '../../kafka/record-batch.ts';
import type { PartitionLog, ReadResult } from '../log/index.ts';
import { handler, type HandlerContext } from './context.ts';

const EMPTY = Buffer.alloc(0);

type Evaluated = { response: FetchResponse; bytes: number; anyError: boolean; logs: PartitionLog[]; ends: number[] };

function empty(partitionIndex: number, errorCode: number, log?: PartitionLog): FetchPartitionData {
  const hw = log ? log.logEndOffset : -1;
  return {
    partitionIndex,
    errorCode,
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset: log ? log.logStartOffset : -1,
    divergingEpoch: null,
    currentLeader: null,
    snapshotId: null,
    abortedTransactions: null,
    preferredReadReplica: -1,
    // An empty record set, never null: librdkafka rejects a null (-1) MessageSetSize.
    records: EMPTY,
  };
}

type Planned = { out: FetchPartitionData; log: PartitionLog; fetchOffset: number; partitionMaxBytes: number };

/**
 * Reads every partition of a fetch that has data past its offset, in order: each takes whole batches within its
 * partition's limit and what is left of the response's, and only the first partition with data may go beyond them,
 * with one batch larger than both (KIP-74). When the partitions' limits fit in the response's together, the reads
 * cannot change each other's limits: they then run at once, so that reads from the disk overlap instead of taking
 * turns. A read is done again in order only where its batch made it larger than the limit it had in the end.
 */
async function readPartitions(ctx: HandlerContext, planned: Planned[], maxBytes: number): Promise<{ bytes: number; anyError: boolean }> {
  const wanted = planned.filter((x) => x.fetchOffset < x.log.logEndOffset);
  let early: ReadResult[] = [];
  if (wanted.length > 1 && wanted.every((x) => x.partitionMaxBytes > 0) && wanted.reduce((n, x) => n + x.partitionMaxBytes, 0) <= maxBytes) {
    const settled = await Promise.allSettled(wanted.map((x) => x.log.read(x.fetchOffset, x.partitionMaxBytes, ctx.lease)));
    // Every read is finished with its buffer before a failure goes up and the buffers go back.
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    early = settled.map((s) => (s as PromiseFulfilledResult<ReadResult>).value);
  }
  let remaining = maxBytes;
  let bytes = 0;
  let anyError = false;
  for (const [i, x] of wanted.entries()) {
    const limit = Math.min(x.partitionMaxBytes, remaining);
    if (limit <= 0 && bytes > 0) continue;
    // A read up to the partition's own limit gives what a read up to `limit` would when it fits in `limit`, or when
    // it is a single batch (any smaller limit returns that batch too).
    let read = early[i];
    if (read === undefined || (read.records.length > limit && readBatchHeader(read.records, 0).byteLength !== read.records.length)) {
      read = await x.log.read(x.fetchOffset, Math.max(limit, 1), ctx.lease);
    }
    if (read.outOfRange) {
      x.out.errorCode = KafkaErrorCode.OFFSET_OUT_OF_RANGE;
      anyError = true;
    } else if (read.records.length > 0 && (bytes === 0 || read.records.length <= limit)) {
      x.out.records = read.records;
      bytes += read.records.length;
      remaining -= read.records.length;
    }
  }
  return { bytes, anyError };
}

async function evaluate(ctx: HandlerContext, req: FetchRequest): Promise<Evaluated> {
  const { broker } = ctx;
  let anyError = false;
  const logs: PartitionLog[] = [];
  const ends: number[] = [];
  const planned: Planned[] = [];
  const responses = [];
  for (const t of req.topics) {
    const topic = broker.topics.get(t.topic);
    const partitions: FetchPartitionData[] = [];
    for (const p of t.partitions) {
      const log = topic?.partitions[p.partition];
      if (ctx.header.apiVersion < FetchApi.minImplementedVersion) {
        partitions.push(empty(p.partition, KafkaErrorCode.UNSUPPORTED_VERSION));
        anyError = true;
        continue;
      }
      if (!log) {
        partitions.push(empty(p.partition, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        anyError = true;
        continue;
      }
      if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) {
        partitions.push(empty(p.partition, KafkaErrorCode.OFFSET_OUT_OF_RANGE, log));
        anyError = true;
        continue;
      }
      const out = empty(p.partition, 0, log);
      if (req.isolationLevel === 1) out.abortedTransactions = [];
      planned.push({ out, log, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes });
      logs.push(log);
      // The end before the read: an append after it wakes a long poll that found too little.
      ends.push(log.logEndOffset);
      partitions.push(out);
    }
    responses.push({ topic: t.topic, partitions });
  }
  const read = await readPartitions(ctx, planned, req.maxBytes > 0 ? req.maxBytes : 0x7fffffff);
  for (const { out, log } of planned) {
    // High watermark after the read, so it never trails the data returned.
    out.highWatermark = out.lastStableOffset = log.logEndOffset;
    out.logStartOffset = log.logStartOffset;
  }
  return { response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses }, bytes: read.bytes, anyError: anyError || read.anyError, logs, ends };
}

/** Resolves on the first append to any of the logs (or if one grew since `ends` was taken) or when the time is up. */
function waitForData(logs: PartitionLog[], ends: number[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (logs.some((log, i) => log.logEndOffset !== ends[i])) {
      resolve();
      return;
    }
    const offs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const log of logs) offs.push(log.onAppend(done));
  });
}

async function fetch(ctx: HandlerContext, req: FetchRequest): Promise<FetchResponse> {
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  const minBytes = Math.max(1, req.minBytes);
  for (;;) {
    const ev = await evaluate(ctx, req);
    const left = deadline - Date.now();
    if (ev.anyError || ev.bytes >= minBytes || left <= 0 || ev.logs.length === 0) return ev.response;
    // Not enough yet: this answer is dropped and read again after the wait, so its buffers go back now rather than
    // piling up over a long poll that re-reads often.
    ctx.lease.release();
    await waitForData(ev.logs, ev.ends, left);
  }
}

export const fetchHandler = handler(FetchApi, fetch);
