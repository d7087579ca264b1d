// SyncGroup (key 14), v0–v4. v4 is flexible. Assignments are opaque bytes chosen by the group leader.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type SyncGroupRequestAssignment = {
  memberId: string;
  assignment: Buffer;
};

export type SyncGroupRequest = {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null; // v3+
  /** Only the leader sends assignments; followers send []. */
  assignments: SyncGroupRequestAssignment[];
};

export type SyncGroupResponse = {
  throttleTimeMs: number; // v1+
  errorCode: number;
  assignment: Buffer;
};

const FLEX = 4;

// Request v0–v2 => group_id:STRING generation_id:INT32 member_id:STRING
//                  assignments:ARRAY[member_id:STRING assignment:BYTES]
// Request v3 => group_id:STRING generation_id:INT32 member_id:STRING group_instance_id:NULLABLE_STRING
//               assignments:ARRAY[member_id:STRING assignment:BYTES]
// Request v4 => group_id:COMPACT_STRING generation_id:INT32 member_id:COMPACT_STRING
//               group_instance_id:COMPACT_NULLABLE_STRING
//               assignments:COMPACT_ARRAY[member_id:COMPACT_STRING assignment:COMPACT_BYTES TAG_BUFFER] TAG_BUFFER
function decodeRequest(r: Reader, version: number): SyncGroupRequest {
  const flex = version >= FLEX;
  const groupId = r.string(flex);
  const generationId = r.int32();
  const memberId = r.string(flex);
  const groupInstanceId = version >= 3 ? r.nullableString(flex) : null;
  const assignments = r.array(flex, (r) => {
    const a = { memberId: r.string(flex), assignment: r.bytes(flex) };
    r.tags(flex);
    return a;
  });
  r.tags(flex);
  return { groupId, generationId, memberId, groupInstanceId, assignments };
}

function encodeRequest(w: Writer, version: number, req: SyncGroupRequest): void {
  const flex = version >= FLEX;
  w.string(req.groupId, flex).int32(req.generationId).string(req.memberId, flex);
  if (version >= 3) w.nullableString(req.groupInstanceId, flex);
  w.array(req.assignments, flex, (w, a) => {
    w.string(a.memberId, flex).bytes(a.assignment, flex).tags(flex);
  });
  w.tags(flex);
}

// Response v0 => error_code:INT16 assignment:BYTES
// Response v1–v3 => throttle_time_ms:INT32 error_code:INT16 assignment:BYTES
// Response v4 => throttle_time_ms:INT32 error_code:INT16 assignment:COMPACT_BYTES TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: SyncGroupResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.int16(res.errorCode).bytes(res.assignment, flex).tags(flex);
}

function decodeResponse(r: Reader, version: number): SyncGroupResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const assignment = r.bytes(flex);
  r.tags(flex);
  return { throttleTimeMs, errorCode, assignment };
}

export const SyncGroupApi: ApiCodec<SyncGroupRequest, SyncGroupResponse> = {
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
