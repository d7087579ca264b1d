// LeaveGroup (key 13), v0–v4. v3+ batches leaving members; v4 is flexible.
//
// One request shape serves every version: v0–v2 name a single `member_id`, v3+ a `members[]` list. A decoded
// v0–v2 request has members = [{ memberId, groupInstanceId: null }], and encoding v0–v2 needs exactly one
// member. The response keeps the top-level error code in every version; `members` (v3+) is [] when decoded from
// v0–v2 and not sent to them.
import { assert } from '../../errors.ts';
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type LeaveGroupMember = {
  memberId: string;
  groupInstanceId: string | null; // v3+
};

export type LeaveGroupRequest = {
  groupId: string;
  members: LeaveGroupMember[]; // v3+; v0–v2 `member_id` as a one-element list
};

export type LeaveGroupMemberResponse = {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
};

export type LeaveGroupResponse = {
  throttleTimeMs: number; // v1+
  errorCode: number;
  members: LeaveGroupMemberResponse[]; // v3+
};

const FLEX = 4;
const BATCHED = 3;

// Request v0–v2 => group_id:STRING member_id:STRING
// Request v3 => group_id:STRING members:ARRAY[member_id:STRING group_instance_id:NULLABLE_STRING]
// Request v4 => group_id:COMPACT_STRING
//               members:COMPACT_ARRAY[member_id:COMPACT_STRING group_instance_id:COMPACT_NULLABLE_STRING TAG_BUFFER] TAG_BUFFER
function decodeRequest(r: Reader, version: number): LeaveGroupRequest {
  const flex = version >= FLEX;
  const groupId = r.string(flex);
  if (version < BATCHED) return { groupId, members: [{ memberId: r.string(flex), groupInstanceId: null }] };
  const members = r.array(flex, (r): LeaveGroupMember => {
    const m = { memberId: r.string(flex), groupInstanceId: r.nullableString(flex) };
    r.tags(flex);
    return m;
  });
  r.tags(flex);
  return { groupId, members };
}

function encodeRequest(w: Writer, version: number, req: LeaveGroupRequest): void {
  const flex = version >= FLEX;
  w.string(req.groupId, flex);
  if (version < BATCHED) {
    const [m] = req.members;
    assert(req.members.length === 1 && m !== undefined, `LeaveGroup v${version} carries exactly one member`);
    w.string(m.memberId, flex);
    return;
  }
  w.array(req.members, flex, (w, m) => {
    w.string(m.memberId, flex).nullableString(m.groupInstanceId, flex).tags(flex);
  });
  w.tags(flex);
}

// Response v0 => error_code:INT16
// Response v1–v2 => throttle_time_ms:INT32 error_code:INT16
// Response v3 => throttle_time_ms:INT32 error_code:INT16
//                members:ARRAY[member_id:STRING group_instance_id:NULLABLE_STRING error_code:INT16]
// Response v4 => throttle_time_ms:INT32 error_code:INT16
//                members:COMPACT_ARRAY[member_id:COMPACT_STRING group_instance_id:COMPACT_NULLABLE_STRING
//                error_code:INT16 TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: LeaveGroupResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.int16(res.errorCode);
  if (version >= BATCHED) {
    w.array(res.members, flex, (w, m) => {
      w.string(m.memberId, flex).nullableString(m.groupInstanceId, flex).int16(m.errorCode).tags(flex);
    });
  }
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): LeaveGroupResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const members =
    version >= BATCHED
      ? r.array(flex, (r): LeaveGroupMemberResponse => {
          const m = { memberId: r.string(flex), groupInstanceId: r.nullableString(flex), errorCode: r.int16() };
          r.tags(flex);
          return m;
        })
      : [];
  r.tags(flex);
  return { throttleTimeMs, errorCode, members };
}

export const LeaveGroupApi: ApiCodec<LeaveGroupRequest, LeaveGroupResponse> = {
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
