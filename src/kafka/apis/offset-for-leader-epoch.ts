// OffsetForLeaderEpoch (key 23), v0–v4: the end offset of a leader epoch, used by clients to detect log truncation.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type OffsetForLeaderPartition = {
  partition: number;
  currentLeaderEpoch: number; // v2+, default -1
  leaderEpoch: number;
};

export type OffsetForLeaderTopic = { topic: string; partitions: OffsetForLeaderPartition[] };

export type OffsetForLeaderEpochRequest = {
  replicaId: number; // v3+, -1 from a consumer; default -2 (older requests did not say)
  topics: OffsetForLeaderTopic[];
};

export type EpochEndOffset = {
  errorCode: number;
  partition: number;
  leaderEpoch: number; // v1+, default -1
  endOffset: number;
};

export type OffsetForLeaderTopicResult = { topic: string; partitions: EpochEndOffset[] };

export type OffsetForLeaderEpochResponse = {
  throttleTimeMs: number; // v2+
  topics: OffsetForLeaderTopicResult[];
};

const FLEX = 4;

// Request v0–v1 => [topics:topic:STRING [partitions:partition:INT32 leader_epoch:INT32]]
// Request v2 => partitions: partition current_leader_epoch:INT32 leader_epoch
// Request v3 => replica_id:INT32 [topics]
// Request v4 => replica_id [topics:topic:COMPACT_STRING [partitions:partition current_leader_epoch leader_epoch TAG_BUFFER] TAG_BUFFER] TAG_BUFFER
function decodeRequest(r: Reader, version: number): OffsetForLeaderEpochRequest {
  const flex = version >= FLEX;
  const replicaId = version >= 3 ? r.int32() : -2;
  const topics = r.array(flex, (r) => {
    const topic = r.string(flex);
    const partitions = r.array(flex, (r) => {
      const partition = r.int32();
      const currentLeaderEpoch = version >= 2 ? r.int32() : -1;
      const leaderEpoch = r.int32();
      r.tags(flex);
      return { partition, currentLeaderEpoch, leaderEpoch };
    });
    r.tags(flex);
    return { topic, partitions };
  });
  r.tags(flex);
  return { replicaId, topics };
}

function encodeRequest(w: Writer, version: number, req: OffsetForLeaderEpochRequest): void {
  const flex = version >= FLEX;
  if (version >= 3) w.int32(req.replicaId);
  w.array(req.topics, flex, (w, t) => {
    w.string(t.topic, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partition);
      if (version >= 2) w.int32(p.currentLeaderEpoch);
      w.int32(p.leaderEpoch).tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

// Response v0 => [topics:topic:STRING [partitions:error_code:INT16 partition:INT32 end_offset:INT64]]
// Response v1 => partitions: error_code partition leader_epoch:INT32 end_offset
// Response v2–v3 => throttle_time_ms:INT32 [topics]
// Response v4 => throttle_time_ms [topics:topic:COMPACT_STRING [partitions ... TAG_BUFFER] TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: OffsetForLeaderEpochResponse): void {
  const flex = version >= FLEX;
  if (version >= 2) w.int32(res.throttleTimeMs);
  w.array(res.topics, flex, (w, t) => {
    w.string(t.topic, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int16(p.errorCode).int32(p.partition);
      if (version >= 1) w.int32(p.leaderEpoch);
      w.int64(p.endOffset).tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): OffsetForLeaderEpochResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const topics = r.array(flex, (r) => {
    const topic = r.string(flex);
    const partitions = r.array(flex, (r) => {
      const errorCode = r.int16();
      const partition = r.int32();
      const leaderEpoch = version >= 1 ? r.int32() : -1;
      const endOffset = r.int64();
      r.tags(flex);
      return { errorCode, partition, leaderEpoch, endOffset };
    });
    r.tags(flex);
    return { topic, partitions };
  });
  r.tags(flex);
  return { throttleTimeMs, topics };
}

export const OffsetForLeaderEpochApi: ApiCodec<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> = {
  key: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
