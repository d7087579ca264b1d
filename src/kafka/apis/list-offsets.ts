// ListOffsets (key 2), v0–v5: the offset for a timestamp (-1 latest, -2 earliest). No advertised version is flexible.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

/** The timestamps that ask for the log end and the log start of a partition instead of a time. */
export const LIST_OFFSETS_LATEST = -1;
export const LIST_OFFSETS_EARLIEST = -2;

export type ListOffsetsPartition = {
  partitionIndex: number;
  currentLeaderEpoch: number; // v4+, default -1
  timestamp: number;
  maxNumOffsets: number; // v0 only, default 1
};

export type ListOffsetsTopic = { name: string; partitions: ListOffsetsPartition[] };

export type ListOffsetsRequest = {
  replicaId: number;
  isolationLevel: number; // v2+, default 0
  topics: ListOffsetsTopic[];
};

export type ListOffsetsPartitionResponse = {
  partitionIndex: number;
  errorCode: number;
  oldStyleOffsets: number[]; // v0 only
  timestamp: number; // v1+, default -1
  offset: number; // v1+, default -1
  leaderEpoch: number; // v4+, default -1
};

export type ListOffsetsTopicResponse = { name: string; partitions: ListOffsetsPartitionResponse[] };

export type ListOffsetsResponse = {
  throttleTimeMs: number; // v2+
  topics: ListOffsetsTopicResponse[];
};

const FLEX = 6;

// Request v0 => replica_id:INT32 [topics:name:STRING [partitions:partition_index:INT32 timestamp:INT64 max_num_offsets:INT32]]
// Request v1 => replica_id [topics:name [partitions:partition_index timestamp]]
// Request v2–v3 => replica_id isolation_level:INT8 [topics]
// Request v4–v5 => partitions: partition_index current_leader_epoch:INT32 timestamp
function decodeRequest(r: Reader, version: number): ListOffsetsRequest {
  const flex = version >= FLEX;
  const replicaId = r.int32();
  const isolationLevel = version >= 2 ? r.int8() : 0;
  const topics = r.array(flex, (r) => {
    const name = r.string(flex);
    const partitions = r.array(flex, (r) => {
      const partitionIndex = r.int32();
      const currentLeaderEpoch = version >= 4 ? r.int32() : -1;
      const timestamp = r.int64();
      const maxNumOffsets = version === 0 ? r.int32() : 1;
      r.tags(flex);
      return { partitionIndex, currentLeaderEpoch, timestamp, maxNumOffsets };
    });
    r.tags(flex);
    return { name, partitions };
  });
  r.tags(flex);
  return { replicaId, isolationLevel, topics };
}

function encodeRequest(w: Writer, version: number, req: ListOffsetsRequest): void {
  const flex = version >= FLEX;
  w.int32(req.replicaId);
  if (version >= 2) w.int8(req.isolationLevel);
  w.array(req.topics, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex);
      if (version >= 4) w.int32(p.currentLeaderEpoch);
      w.int64(p.timestamp);
      if (version === 0) w.int32(p.maxNumOffsets);
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

// Response v0 => [topics:name:STRING [partitions:partition_index:INT32 error_code:INT16 [old_style_offsets:INT64]]]
// Response v1 => [topics:name [partitions:partition_index error_code timestamp:INT64 offset:INT64]]
// Response v2–v3 => throttle_time_ms:INT32 [topics]
// Response v4–v5 => partitions: partition_index error_code timestamp offset leader_epoch:INT32
function encodeResponse(w: Writer, version: number, res: ListOffsetsResponse): void {
  const flex = version >= FLEX;
  if (version >= 2) w.int32(res.throttleTimeMs);
  w.array(res.topics, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex).int16(p.errorCode);
      if (version === 0) {
        w.array(p.oldStyleOffsets, flex, (w, o) => {
          w.int64(o);
        });
      } else {
        w.int64(p.timestamp).int64(p.offset);
      }
      if (version >= 4) w.int32(p.leaderEpoch);
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): ListOffsetsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const topics = r.array(flex, (r) => {
    const name = r.string(flex);
    const partitions = r.array(flex, (r) => {
      const partitionIndex = r.int32();
      const errorCode = r.int16();
      const oldStyleOffsets = version === 0 ? r.array(flex, (r) => r.int64()) : [];
      const timestamp = version >= 1 ? r.int64() : -1;
      const offset = version >= 1 ? r.int64() : -1;
      const leaderEpoch = version >= 4 ? r.int32() : -1;
      r.tags(flex);
      return { partitionIndex, errorCode, oldStyleOffsets, timestamp, offset, leaderEpoch };
    });
    r.tags(flex);
    return { name, partitions };
  });
  r.tags(flex);
  return { throttleTimeMs, topics };
}

export const ListOffsetsApi: ApiCodec<ListOffsetsRequest, ListOffsetsResponse> = {
  key: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 5,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
