// JoinGroup (key 11), v0–v6. v6 is flexible. Protocol metadata is opaque to the broker (assignors run in clients).
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type JoinGroupRequestProtocol = {
  name: string;
  metadata: Buffer;
};

export type JoinGroupRequest = {
  groupId: string;
  sessionTimeoutMs: number;
  /** v1+; -1 when absent, and the coordinator then uses sessionTimeoutMs instead. */
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null; // v5+
  protocolType: string;
  protocols: JoinGroupRequestProtocol[];
};

export type JoinGroupResponseMember = {
  memberId: string;
  groupInstanceId: string | null; // v5+
  metadata: Buffer;
};

export type JoinGroupResponse = {
  throttleTimeMs: number; // v2+
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  /** Filled only in the leader's response; followers get []. */
  members: JoinGroupResponseMember[];
};

const FLEX = 6;

// Request v0 => group_id:STRING session_timeout_ms:INT32 member_id:STRING protocol_type:STRING
//               protocols:ARRAY[name:STRING metadata:BYTES]
// Request v1–v4 => group_id:STRING session_timeout_ms:INT32 rebalance_timeout_ms:INT32 member_id:STRING protocol_type:STRING
//                  protocols:ARRAY[name:STRING metadata:BYTES]
// Request v5 => group_id:STRING session_timeout_ms:INT32 rebalance_timeout_ms:INT32 member_id:STRING
//               group_instance_id:NULLABLE_STRING protocol_type:STRING protocols:ARRAY[name:STRING metadata:BYTES]
// Request v6 => group_id:COMPACT_STRING session_timeout_ms:INT32 rebalance_timeout_ms:INT32 member_id:COMPACT_STRING
//               group_instance_id:COMPACT_NULLABLE_STRING protocol_type:COMPACT_STRING
//               protocols:COMPACT_ARRAY[name:COMPACT_STRING metadata:COMPACT_BYTES TAG_BUFFER] TAG_BUFFER
function decodeRequest(r: Reader, version: number): JoinGroupRequest {
  const flex = version >= FLEX;
  const groupId = r.string(flex);
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
  const memberId = r.string(flex);
  const groupInstanceId = version >= 5 ? r.nullableString(flex) : null;
  const protocolType = r.string(flex);
  const protocols = r.array(flex, (r) => {
    const p = { name: r.string(flex), metadata: r.bytes(flex) };
    r.tags(flex);
    return p;
  });
  r.tags(flex);
  return { groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId, protocolType, protocols };
}

function encodeRequest(w: Writer, version: number, req: JoinGroupRequest): void {
  const flex = version >= FLEX;
  w.string(req.groupId, flex).int32(req.sessionTimeoutMs);
  if (version >= 1) w.int32(req.rebalanceTimeoutMs);
  w.string(req.memberId, flex);
  if (version >= 5) w.nullableString(req.groupInstanceId, flex);
  w.string(req.protocolType, flex);
  w.array(req.protocols, flex, (w, p) => {
    w.string(p.name, flex).bytes(p.metadata, flex).tags(flex);
  });
  w.tags(flex);
}

// Response v0–v1 => error_code:INT16 generation_id:INT32 protocol_name:STRING leader:STRING member_id:STRING
//                   members:ARRAY[member_id:STRING metadata:BYTES]
// Response v2–v4 => throttle_time_ms:INT32 error_code:INT16 generation_id:INT32 protocol_name:STRING leader:STRING
//                   member_id:STRING members:ARRAY[member_id:STRING metadata:BYTES]
// Response v5 => throttle_time_ms:INT32 error_code:INT16 generation_id:INT32 protocol_name:STRING leader:STRING
//                member_id:STRING members:ARRAY[member_id:STRING group_instance_id:NULLABLE_STRING metadata:BYTES]
// Response v6 => throttle_time_ms:INT32 error_code:INT16 generation_id:INT32 protocol_name:COMPACT_STRING
//                leader:COMPACT_STRING member_id:COMPACT_STRING
//                members:COMPACT_ARRAY[member_id:COMPACT_STRING group_instance_id:COMPACT_NULLABLE_STRING
//                metadata:COMPACT_BYTES TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: JoinGroupResponse): void {
  const flex = version >= FLEX;
  if (version >= 2) w.int32(res.throttleTimeMs);
  w.int16(res.errorCode).int32(res.generationId);
  w.string(res.protocolName, flex).string(res.leader, flex).string(res.memberId, flex);
  w.array(res.members, flex, (w, m) => {
    w.string(m.memberId, flex);
    if (version >= 5) w.nullableString(m.groupInstanceId, flex);
    w.bytes(m.metadata, flex).tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): JoinGroupResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const errorCode = r.int16();
  const generationId = r.int32();
  const protocolName = r.string(flex);
  const leader = r.string(flex);
  const memberId = r.string(flex);
  const members = r.array(flex, (r): JoinGroupResponseMember => {
    const memberId = r.string(flex);
    const groupInstanceId = version >= 5 ? r.nullableString(flex) : null;
    const metadata = r.bytes(flex);
    r.tags(flex);
    return { memberId, groupInstanceId, metadata };
  });
  r.tags(flex);
  return { throttleTimeMs, errorCode, generationId, protocolName, leader, memberId, members };
}

export const JoinGroupApi: ApiCodec<JoinGroupRequest, JoinGroupResponse> = {
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 6,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
