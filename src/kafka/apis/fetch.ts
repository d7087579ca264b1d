// Fetch (key 1), v0–v12. Record batches pass through as opaque bytes; v12 is flexible and carries tagged
// per-partition fields (diverging epoch, current leader, snapshot id) that are decoded when present.
import type { ApiCodec } from '../api.ts';
import { Reader } from '../reader.ts';
import { Writer } from '../writer.ts';

export type FetchPartition = {
  partition: number;
  currentLeaderEpoch: number; // v9+, default -1
  fetchOffset: number;
  lastFetchedEpoch: number; // v12+, default -1
  logStartOffset: number; // v5+, default -1
  partitionMaxBytes: number;
};

export type FetchTopic = { topic: string; partitions: FetchPartition[] };

export type ForgottenTopic = { topic: string; partitions: number[] };

export type FetchRequest = {
  clusterId: string | null; // v12+ tagged (tag 0), default null
  replicaId: number; // default -1
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number; // v3+, default 0x7fffffff
  isolationLevel: number; // v4+, default 0
  sessionId: number; // v7+, default 0
  sessionEpoch: number; // v7+, default -1
  topics: FetchTopic[];
  forgottenTopicsData: ForgottenTopic[]; // v7+
  rackId: string; // v11+, default ''
};

export type EpochEndOffset = { epoch: number; endOffset: number };
export type LeaderIdAndEpoch = { leaderId: number; leaderEpoch: number };
export type SnapshotId = { endOffset: number; epoch: number };
export type AbortedTransaction = { producerId: number; firstOffset: number };

export type FetchPartitionData = {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number; // v4+, default -1
  logStartOffset: number; // v5+, default -1
  /** Tagged (v12+); null when absent. */
  divergingEpoch: EpochEndOffset | null;
  /** Tagged (v12+); null when absent. */
  currentLeader: LeaderIdAndEpoch | null;
  /** Tagged (v12+); null when absent. */
  snapshotId: SnapshotId | null;
  abortedTransactions: AbortedTransaction[] | null; // v4+, default null
  preferredReadReplica: number; // v11+, default -1
  /** Stored record batches, written as they are. */
  records: Buffer | null;
};

export type FetchableTopicResponse = { topic: string; partitions: FetchPartitionData[] };

export type FetchResponse = {
  throttleTimeMs: number; // v1+
  errorCode: number; // v7+
  sessionId: number; // v7+, default 0
  responses: FetchableTopicResponse[];
};

const FLEX = 12;
const TAG_CLUSTER_ID = 0;
const TAG_DIVERGING_EPOCH = 0;
const TAG_CURRENT_LEADER = 1;
const TAG_SNAPSHOT_ID = 2;

// Request v0–v2 => replica_id:INT32 max_wait_ms:INT32 min_bytes:INT32
//                  [topics:topic:STRING [partitions:partition:INT32 fetch_offset:INT64 partition_max_bytes:INT32]]
// Request v3 => replica_id max_wait_ms min_bytes max_bytes:INT32 [topics]
// Request v4 => ... max_bytes isolation_level:INT8 [topics]
// Request v5–v6 => partitions: partition fetch_offset log_start_offset:INT64 partition_max_bytes
// Request v7–v8 => ... isolation_level session_id:INT32 session_epoch:INT32 [topics] [forgotten_topics_data:topic:STRING [partitions:INT32]]
// Request v9–v10 => partitions: partition current_leader_epoch:INT32 fetch_offset log_start_offset partition_max_bytes
// Request v11 => ... [forgotten_topics_data] rack_id:STRING
// Request v12 => compact strings/arrays; partitions: partition current_leader_epoch fetch_offset last_fetched_epoch:INT32
//                log_start_offset partition_max_bytes TAG_BUFFER; TAG_BUFFER after each topic, forgotten topic and the body
//                (body tag 0 = cluster_id:COMPACT_NULLABLE_STRING)
function decodeRequest(r: Reader, version: number): FetchRequest {
  const flex = version >= FLEX;
  const replicaId = r.int32();
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = version >= 3 ? r.int32() : 0x7fffffff;
  const isolationLevel = version >= 4 ? r.int8() : 0;
  const sessionId = version >= 7 ? r.int32() : 0;
  const sessionEpoch = version >= 7 ? r.int32() : -1;
  const topics = r.array(flex, (r) => {
    const topic = r.string(flex);
    const partitions = r.array(flex, (r) => {
      const partition = r.int32();
      const currentLeaderEpoch = version >= 9 ? r.int32() : -1;
      const fetchOffset = r.int64();
      const lastFetchedEpoch = version >= 12 ? r.int32() : -1;
      const logStartOffset = version >= 5 ? r.int64() : -1;
      const partitionMaxBytes = r.int32();
      r.tags(flex);
      return { partition, currentLeaderEpoch, fetchOffset, lastFetchedEpoch, logStartOffset, partitionMaxBytes };
    });
    r.tags(flex);
    return { topic, partitions };
  });
  const forgottenTopicsData =
    version >= 7
      ? r.array(flex, (r) => {
          const topic = r.string(flex);
          const partitions = r.array(flex, (r) => r.int32());
          r.tags(flex);
          return { topic, partitions };
        })
      : [];
  const rackId = version >= 11 ? r.string(flex) : '';
  let clusterId: string | null = null;
  if (flex) {
    const tagged = r.taggedFields().get(TAG_CLUSTER_ID);
    if (tagged !== undefined) clusterId = new Reader(tagged).nullableString(true);
  }
  return {
    clusterId,
    replicaId,
    maxWaitMs,
    minBytes,
    maxBytes,
    isolationLevel,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData,
    rackId,
  };
}

function encodeRequest(w: Writer, version: number, req: FetchRequest): void {
  const flex = version >= FLEX;
  w.int32(req.replicaId).int32(req.maxWaitMs).int32(req.minBytes);
  if (version >= 3) w.int32(req.maxBytes);
  if (version >= 4) w.int8(req.isolationLevel);
  if (version >= 7) w.int32(req.sessionId).int32(req.sessionEpoch);
  w.array(req.topics, flex, (w, t) => {
    w.string(t.topic, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partition);
      if (version >= 9) w.int32(p.currentLeaderEpoch);
      w.int64(p.fetchOffset);
      if (version >= 12) w.int32(p.lastFetchedEpoch);
      if (version >= 5) w.int64(p.logStartOffset);
      w.int32(p.partitionMaxBytes).tags(flex);
    });
    w.tags(flex);
  });
  if (version >= 7) {
    w.array(req.forgottenTopicsData, flex, (w, t) => {
      w.string(t.topic, flex);
      w.array(t.partitions, flex, (w, p) => {
        w.int32(p);
      });
      w.tags(flex);
    });
  }
  if (version >= 11) w.string(req.rackId, flex);
  if (!flex) return;
  if (req.clusterId === null) {
    w.tags(true);
  } else {
    const tagged = new Writer(Buffer.byteLength(req.clusterId) + 5).nullableString(req.clusterId, true).bytesWritten();
    w.tags(true, new Map([[TAG_CLUSTER_ID, tagged]]));
  }
}

// Response v0 => [responses:topic:STRING [partitions:partition_index:INT32 error_code:INT16 high_watermark:INT64 records:RECORDS]]
// Response v1–v3 => throttle_time_ms:INT32 [responses]
// Response v4 => partitions: partition_index error_code high_watermark last_stable_offset:INT64
//                [aborted_transactions:producer_id:INT64 first_offset:INT64] (nullable) records
// Response v5–v6 => partitions: ... last_stable_offset log_start_offset:INT64 [aborted_transactions] records
// Response v7–v10 => throttle_time_ms error_code:INT16 session_id:INT32 [responses]
// Response v11 => partitions: ... [aborted_transactions] preferred_read_replica:INT32 records
// Response v12 => compact strings/arrays/records; TAG_BUFFER after each aborted transaction, partition, topic and the body.
//                 Partition tags: 0 = diverging_epoch(epoch:INT32 end_offset:INT64), 1 = current_leader(leader_id:INT32
//                 leader_epoch:INT32), 2 = snapshot_id(end_offset:INT64 epoch:INT32)
// RECORDS is NULLABLE_BYTES (COMPACT_NULLABLE_BYTES in v12): the stored batches, unchanged.
function encodeResponse(w: Writer, version: number, res: FetchResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  if (version >= 7) w.int16(res.errorCode).int32(res.sessionId);
  w.array(res.responses, flex, (w, t) => {
    w.string(t.topic, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex).int16(p.errorCode).int64(p.highWatermark);
      if (version >= 4) w.int64(p.lastStableOffset);
      if (version >= 5) w.int64(p.logStartOffset);
      if (version >= 4) {
        w.nullableArray(p.abortedTransactions, flex, (w, a) => {
          w.int64(a.producerId).int64(a.firstOffset).tags(flex);
        });
      }
      if (version >= 11) w.int32(p.preferredReadReplica);
      w.nullableBytes(p.records, flex);
      if (flex) writePartitionTags(w, p);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

/** The partition's tag buffer, written in place: fixed-size values, so no scratch buffers per partition. */
function writePartitionTags(w: Writer, p: FetchPartitionData): void {
  const count = (p.divergingEpoch ? 1 : 0) + (p.currentLeader ? 1 : 0) + (p.snapshotId ? 1 : 0);
  w.uvarint(count);
  if (p.divergingEpoch) w.uvarint(TAG_DIVERGING_EPOCH).uvarint(12).int32(p.divergingEpoch.epoch).int64(p.divergingEpoch.endOffset);
  if (p.currentLeader) w.uvarint(TAG_CURRENT_LEADER).uvarint(8).int32(p.currentLeader.leaderId).int32(p.currentLeader.leaderEpoch);
  if (p.snapshotId) w.uvarint(TAG_SNAPSHOT_ID).uvarint(12).int64(p.snapshotId.endOffset).int32(p.snapshotId.epoch);
}

function decodeResponse(r: Reader, version: number): FetchResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = version >= 7 ? r.int16() : 0;
  const sessionId = version >= 7 ? r.int32() : 0;
  const responses = r.array(flex, (r) => {
    const topic = r.string(flex);
    const partitions = r.array(flex, (r): FetchPartitionData => {
      const partitionIndex = r.int32();
      const errorCode = r.int16();
      const highWatermark = r.int64();
      const lastStableOffset = version >= 4 ? r.int64() : -1;
      const logStartOffset = version >= 5 ? r.int64() : -1;
      const abortedTransactions =
        version >= 4
          ? r.nullableArray(flex, (r) => {
              const a = { producerId: r.int64(), firstOffset: r.int64() };
              r.tags(flex);
              return a;
            })
          : null;
      const preferredReadReplica = version >= 11 ? r.int32() : -1;
      const records = r.nullableBytes(flex);
      let divergingEpoch: EpochEndOffset | null = null;
      let currentLeader: LeaderIdAndEpoch | null = null;
      let snapshotId: SnapshotId | null = null;
      if (flex) {
        for (const [tag, bytes] of r.taggedFields()) {
          const t = new Reader(bytes);
          if (tag === TAG_DIVERGING_EPOCH) divergingEpoch = { epoch: t.int32(), endOffset: t.int64() };
          else if (tag === TAG_CURRENT_LEADER) currentLeader = { leaderId: t.int32(), leaderEpoch: t.int32() };
          else if (tag === TAG_SNAPSHOT_ID) snapshotId = { endOffset: t.int64(), epoch: t.int32() };
        }
      }
      return {
        partitionIndex,
        errorCode,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        divergingEpoch,
        currentLeader,
        snapshotId,
        abortedTransactions,
        preferredReadReplica,
        records,
      };
    });
    r.tags(flex);
    return { topic, partitions };
  });
  r.tags(flex);
  return { throttleTimeMs, errorCode, sessionId, responses };
}

export const FetchApi: ApiCodec<FetchRequest, FetchResponse> = {
  key: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 12,
  minImplementedVersion: 4,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
