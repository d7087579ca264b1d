// OffsetFetch (key 9), v0–v8. v6+ is flexible; v8 batches groups (KIP-709).
//
// One shape serves every version. v0–v7 ask about one group and answer with top-level topics (and, v2+, a
// top-level error code); v8 asks about `groups[]` and answers with `groups[]`, each with its own topics and
// error code. So:
//   - a decoded v0–v7 request has groups = [{ groupId, topics }]; encoding v0–v7 needs exactly one group;
//   - a decoded v0–v7 response has groups = [{ groupId: '', topics, errorCode }] (the old response does not
//     echo the group id; v0–v1 have no group error code, so it decodes as 0); encoding v0–v7 needs exactly one
//     group, whose groupId is not sent. A v0–v1 client cannot see a group-level error: report it per partition.
// `topics: null` means "every committed offset of the group" (v2+); v0–v1 cannot express it.
import { assert } from '../../errors.ts';
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type OffsetFetchRequestTopic = {
  name: string;
  partitionIndexes: number[];
};

export type OffsetFetchRequestGroup = {
  groupId: string;
  topics: OffsetFetchRequestTopic[] | null; // null (v2+) = all topics
};

export type OffsetFetchRequest = {
  groups: OffsetFetchRequestGroup[]; // v8+; v0–v7 group_id + topics as a one-element list
  requireStable: boolean; // v7+
};

export type OffsetFetchResponsePartition = {
  partitionIndex: number;
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: number;
  committedLeaderEpoch: number; // v5+ (default -1)
  metadata: string | null;
  errorCode: number;
};

export type OffsetFetchResponseTopic = {
  name: string;
  partitions: OffsetFetchResponsePartition[];
};

export type OffsetFetchResponseGroup = {
  groupId: string; // v8+ ('' when decoded from v0–v7)
  topics: OffsetFetchResponseTopic[];
  errorCode: number; // v2+ (default 0)
};

export type OffsetFetchResponse = {
  throttleTimeMs: number; // v3+
  groups: OffsetFetchResponseGroup[]; // v8+; v0–v7 top-level fields as a one-element list
};

const FLEX = 6;
const BATCHED = 8;

function decodeRequestTopics(r: Reader, version: number, flex: boolean): OffsetFetchRequestTopic[] | null {
  const topic = (r: Reader): OffsetFetchRequestTopic => {
    const t = { name: r.string(flex), partitionIndexes: r.array(flex, (r) => r.int32()) };
    r.tags(flex);
    return t;
  };
  return version >= 2 ? r.nullableArray(flex, topic) : r.array(flex, topic);
}

function encodeRequestTopics(w: Writer, version: number, flex: boolean, topics: OffsetFetchRequestTopic[] | null): void {
  assert(version >= 2 || topics !== null, `OffsetFetch v${version} cannot ask for all topics (topics: null)`);
  w.nullableArray(topics, flex, (w, t) => {
    w.string(t.name, flex).array(t.partitionIndexes, flex, (w, p) => w.int32(p)).tags(flex);
  });
}

// Request v0–v1 => group_id:STRING topics:ARRAY[name:STRING partition_indexes:ARRAY[INT32]]
// Request v2–v5 => group_id:STRING topics:NULLABLE_ARRAY[name:STRING partition_indexes:ARRAY[INT32]]
// Request v6 => group_id:COMPACT_STRING
//   topics:COMPACT_NULLABLE_ARRAY[name:COMPACT_STRING partition_indexes:COMPACT_ARRAY[INT32] TAG_BUFFER] TAG_BUFFER
// Request v7 => group_id:COMPACT_STRING
//   topics:COMPACT_NULLABLE_ARRAY[name:COMPACT_STRING partition_indexes:COMPACT_ARRAY[INT32] TAG_BUFFER]
//   require_stable:BOOL TAG_BUFFER
// Request v8 => groups:COMPACT_ARRAY[group_id:COMPACT_STRING
//   topics:COMPACT_NULLABLE_ARRAY[name:COMPACT_STRING partition_indexes:COMPACT_ARRAY[INT32] TAG_BUFFER] TAG_BUFFER]
//   require_stable:BOOL TAG_BUFFER
function decodeRequest(r: Reader, version: number): OffsetFetchRequest {
  const flex = version >= FLEX;
  let groups: OffsetFetchRequestGroup[];
  if (version >= BATCHED) {
    groups = r.array(flex, (r): OffsetFetchRequestGroup => {
      const g = { groupId: r.string(flex), topics: decodeRequestTopics(r, version, flex) };
      r.tags(flex);
      return g;
    });
  } else {
    groups = [{ groupId: r.string(flex), topics: decodeRequestTopics(r, version, flex) }];
  }
  const requireStable = version >= 7 ? r.bool() : false;
  r.tags(flex);
  return { groups, requireStable };
}

function encodeRequest(w: Writer, version: number, req: OffsetFetchRequest): void {
  const flex = version >= FLEX;
  if (version >= BATCHED) {
    w.array(req.groups, flex, (w, g) => {
      w.string(g.groupId, flex);
      encodeRequestTopics(w, version, flex, g.topics);
      w.tags(flex);
    });
  } else {
    const [g] = req.groups;
    assert(req.groups.length === 1 && g !== undefined, `OffsetFetch v${version} carries exactly one group`);
    w.string(g.groupId, flex);
    encodeRequestTopics(w, version, flex, g.topics);
  }
  if (version >= 7) w.bool(req.requireStable);
  w.tags(flex);
}

function encodeResponseTopics(w: Writer, version: number, flex: boolean, topics: OffsetFetchResponseTopic[]): void {
  w.array(topics, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitions, flex, (w, p) => {
      w.int32(p.partitionIndex).int64(p.committedOffset);
      if (version >= 5) w.int32(p.committedLeaderEpoch);
      w.nullableString(p.metadata, flex).int16(p.errorCode).tags(flex);
    });
    w.tags(flex);
  });
}

function decodeResponseTopics(r: Reader, version: number, flex: boolean): OffsetFetchResponseTopic[] {
  return r.array(flex, (r): OffsetFetchResponseTopic => {
    const name = r.string(flex);
    const partitions = r.array(flex, (r): OffsetFetchResponsePartition => {
      const partitionIndex = r.int32();
      const committedOffset = r.int64();
      const committedLeaderEpoch = version >= 5 ? r.int32() : -1;
      const metadata = r.nullableString(flex);
      const errorCode = r.int16();
      r.tags(flex);
      return { partitionIndex, committedOffset, committedLeaderEpoch, metadata, errorCode };
    });
    r.tags(flex);
    return { name, partitions };
  });
}

// Partition (v0–v4) => partition_index:INT32 committed_offset:INT64 metadata:NULLABLE_STRING error_code:INT16
// Partition (v5) => partition_index:INT32 committed_offset:INT64 committed_leader_epoch:INT32
//                   metadata:NULLABLE_STRING error_code:INT16
// Partition (v6+) => partition_index:INT32 committed_offset:INT64 committed_leader_epoch:INT32
//                    metadata:COMPACT_NULLABLE_STRING error_code:INT16 TAG_BUFFER
// Response v0–v1 => topics:ARRAY[name:STRING partitions:ARRAY[Partition]]
// Response v2 => topics:ARRAY[name:STRING partitions:ARRAY[Partition]] error_code:INT16
// Response v3–v5 => throttle_time_ms:INT32 topics:ARRAY[name:STRING partitions:ARRAY[Partition]] error_code:INT16
// Response v6–v7 => throttle_time_ms:INT32
//   topics:COMPACT_ARRAY[name:COMPACT_STRING partitions:COMPACT_ARRAY[Partition] TAG_BUFFER] error_code:INT16 TAG_BUFFER
// Response v8 => throttle_time_ms:INT32 groups:COMPACT_ARRAY[group_id:COMPACT_STRING
//   topics:COMPACT_ARRAY[name:COMPACT_STRING partitions:COMPACT_ARRAY[Partition] TAG_BUFFER] error_code:INT16 TAG_BUFFER]
//   TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: OffsetFetchResponse): void {
  const flex = version >= FLEX;
  if (version >= 3) w.int32(res.throttleTimeMs);
  if (version >= BATCHED) {
    w.array(res.groups, flex, (w, g) => {
      w.string(g.groupId, flex);
      encodeResponseTopics(w, version, flex, g.topics);
      w.int16(g.errorCode).tags(flex);
    });
  } else {
    const [g] = res.groups;
    assert(res.groups.length === 1 && g !== undefined, `OffsetFetch v${version} answers for exactly one group`);
    encodeResponseTopics(w, version, flex, g.topics);
    if (version >= 2) w.int16(g.errorCode);
  }
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): OffsetFetchResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  let groups: OffsetFetchResponseGroup[];
  if (version >= BATCHED) {
    groups = r.array(flex, (r): OffsetFetchResponseGroup => {
      const groupId = r.string(flex);
      const topics = decodeResponseTopics(r, version, flex);
      const errorCode = r.int16();
      r.tags(flex);
      return { groupId, topics, errorCode };
    });
  } else {
    const topics = decodeResponseTopics(r, version, flex);
    const errorCode = version >= 2 ? r.int16() : 0;
    groups = [{ groupId: '', topics, errorCode }];
  }
  r.tags(flex);
  return { throttleTimeMs, groups };
}

export const OffsetFetchApi: ApiCodec<OffsetFetchRequest, OffsetFetchResponse> = {
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 8,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
