// Fetch: serves whole stored batches from many partitions, long-polling (max_wait_ms, min_bytes) without busy-waiting.
import { FetchApi, type FetchPartitionData, type FetchRequest, type FetchResponse } from '../../kafka/apis/fetch.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import type { PartitionLog } from '../log/index.ts';
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

async function evaluate(ctx: HandlerContext, req: FetchRequest): Promise<Evaluated> {
  const { broker } = ctx;
  let remaining = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
  let bytes = 0;
  let anyError = false;
  const logs: PartitionLog[] = [];
  const ends: number[] = [];
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
      // Once the response budget is spent, later partitions report their offsets without data (KIP-74: the first
      // batch of the first partition with data is always sent whole, even beyond the limits).
      const limit = Math.min(p.partitionMaxBytes, remaining);
      const endBeforeRead = log.logEndOffset;
      if (p.fetchOffset < log.logEndOffset && (limit > 0 || bytes === 0)) {
        const read = await log.read(p.fetchOffset, Math.max(limit, 1), ctx.lease);
        if (read.outOfRange) {
          out.errorCode = KafkaErrorCode.OFFSET_OUT_OF_RANGE;
          anyError = true;
        } else if (read.records.length > 0) {
          out.records = read.records;
          bytes += read.records.length;
          remaining -= read.records.length;
        }
      }
      // High watermark after the read, so it never trails the data returned.
      out.highWatermark = out.lastStableOffset = log.logEndOffset;
      logs.push(log);
      ends.push(endBeforeRead);
      out.logStartOffset = log.logStartOffset;
      partitions.push(out);
    }
    responses.push({ topic: t.topic, partitions });
  }
  return { response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses }, bytes, anyError, logs, ends };
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
