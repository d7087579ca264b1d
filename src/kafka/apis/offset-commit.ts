// OffsetCommit (key 8), v0–v8. v8 is flexible. Committed metadata is stored and returned verbatim (including null).
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type OffsetCommitRequestPartition = {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number; // v6+ (default -1)
  commitTimestamp: number; // v1 only (default -1)
  committedMetadata: string | null;
};

export type OffsetCommitRequestTopic = {
  name: string;
  partitions: OffsetCommitRequestPartition[];
};

export type OffsetCommitRequest = {
  groupId: string;
  /** v1+ (default -1). The classic group generation; -1 with memberId '' is a commit from outside any group. */
  generationIdOrMemberEpoch: number;
  memberId: string; // v1+
  groupInstanceId: string | null; // v7+
  retentionTimeMs: number; // v2–v4 (default -1 = broker default)
  topics: OffsetCommitRequestTopic[];
};

export type OffsetCommitResponsePartition = {
  partitionIndex: number;
  errorCode: number;
};

export type OffsetCommitResponseTopic = {
  name: string;
  partitions: OffsetCommitResponsePartition[];
};

export type OffsetCommitResponse = {
  throttleTimeMs: number; // v3+
  topics: OffsetCommitResponseTopic[];
};

const FLEX = 8;

// Request v0 => group_id:STRING
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 committed_metadata:NULLABLE_STRING]]
// Request v1 => group_id:STRING generation_id_or_member_epoch:INT32 member_id:STRING
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 commit_timestamp:INT64
//   committed_metadata:NULLABLE_STRING]]
// Request v2–v4 => group_id:STRING generation_id_or_member_epoch:INT32 member_id:STRING retention_time_ms:INT64
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 committed_metadata:NULLABLE_STRING]]
// Request v5 => group_id:STRING generation_id_or_member_epoch:INT32 member_id:STRING
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 committed_metadata:NULLABLE_STRING]]
// Request v6 => group_id:STRING generation_id_or_member_epoch:INT32 member_id:STRING
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 committed_leader_epoch:INT32
//   committed_metadata:NULLABLE_STRING]]
// Request v7 => group_id:STRING generation_id_or_member_epoch:INT32 member_id:STRING group_instance_id:NULLABLE_STRING
//   topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 committed_offset:INT64 committed_leader_epoch:INT32
//   committed_metadata:NULLABLE_STRING]]
// Request v8 => group_id:COMPACT_STRING generation_id_or_member_epoch:INT32 member_id:COMPACT_STRING
//   group_instance_id:COMPACT_NULLABLE_STRING
//   topics:COMPACT_ARRAY[name:COMPACT_STRING partitions:COMPACT_ARRAY[partition_index:INT32 committed_offset:INT64
//   committed_leader_epoch:INT32 committed_metadata:COMPACT_NULLABLE_STRING TAG_BUFFER] TAG_BUFFER] TAG_BUFFER
function decodeRequest(r: Reader, version: number): OffsetCommitRequest {
  const flex = version >= FLEX;
  const groupId = r.string(flex);
  const generationIdOrMemberEpoch = version >= 1 ? r.int32() : -1;
  const memberId = version >= 1 ? r.string(flex) : '';
  const groupInstanceId = version >= 7 ? r.nullableString(flex) : null;
  const retentionTimeMs = version >= 2 && version <= 4 ? r.int64() : -1;
  const topics = r.array(flex, (r): OffsetCommitRequestTopic => {
    const name = r.string(flex);
    const partitions = r.array(flex, (r): OffsetCommitRequestPartition => {
      const partitionIndex = r.int32();
      const committedOffset = r.int64();
      const committedLeaderEpoch = version >= 6 ? r.int32() : -1;
      const commitTimestamp = version === 1 ? r.int64() : -1;
      const committedMetadata = r.nullableString(flex);
      r.tags(flex);
      return { partitionIndex, committedOffset, committedLeaderEpoch, commitTimestamp, committedMetadata };
    });
    r.tags(flex);
    return { name, partitions };
  });
  r.tags(flex);
  return { groupId, generationIdOrMemberEpoch, memberId, groupInstanceId, retentionTimeMs, topics };
}

function encodeRequest(w: Writer, version: number, req: OffsetCommitRequest): void {
  const flex = version >= FLEX;
  w.string(req.groupId, flex);
  if (version >= 1) w.int32(req.generationIdOrMemberEpoch).string(req.memberId, flex);
  if (version >= 7) w.nullableString(req.groupInstanceId, flex);
  if (version >= 2 && version <= 4) w.int64(req.retentionTimeMs);
  w.array(req.topics, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex).int64(p.committedOffset);
      if (version >= 6) w.int32(p.committedLeaderEpoch);
      if (version === 1) w.int64(p.commitTimestamp);
      w.nullableString(p.committedMetadata, flex).tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

// Response v0–v2 => topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 error_code:INT16]]
// Response v3–v7 => throttle_time_ms:INT32 topics:ARRAY[name:STRING partitions:ARRAY[partition_index:INT32 error_code:INT16]]
// Response v8 => throttle_time_ms:INT32
//   topics:COMPACT_ARRAY[name:COMPACT_STRING partitions:COMPACT_ARRAY[partition_index:INT32 error_code:INT16 TAG_BUFFER]
//   TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: OffsetCommitResponse): void {
  const flex = version >= FLEX;
  if (version >= 3) w.int32(res.throttleTimeMs);
  w.array(res.topics, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex).int16(p.errorCode).tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): OffsetCommitResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const topics = r.array(flex, (r): OffsetCommitResponseTopic => {
    const name = r.string(flex);
    const partitions = r.array(flex, (r): OffsetCommitResponsePartition => {
      const p = { partitionIndex: r.int32(), errorCode: r.int16() };
      r.tags(flex);
      return p;
    });
    r.tags(flex);
    return { name, partitions };
  });
  r.tags(flex);
  return { throttleTimeMs, topics };
}

export const OffsetCommitApi: ApiCodec<OffsetCommitRequest, OffsetCommitResponse> = {
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 8,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
