// Heartbeat (key 12), v0–v4. v4 is flexible.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type HeartbeatRequest = {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null; // v3+
};

export type HeartbeatResponse = {
  throttleTimeMs: number; // v1+
  errorCode: number;
};

const FLEX = 4;

// Request v0–v2 => group_id:STRING generation_id:INT32 member_id:STRING
// Request v3 => group_id:STRING generation_id:INT32 member_id:STRING group_instance_id:NULLABLE_STRING
// Request v4 => group_id:COMPACT_STRING generation_id:INT32 member_id:COMPACT_STRING
//               group_instance_id:COMPACT_NULLABLE_STRING TAG_BUFFER
function decodeRequest(r: Reader, version: number): HeartbeatRequest {
  const flex = version >= FLEX;
  const groupId = r.string(flex);
  const generationId = r.int32();
  const memberId = r.string(flex);
  const groupInstanceId = version >= 3 ? r.nullableString(flex) : null;
  r.tags(flex);
  return { groupId, generationId, memberId, groupInstanceId };
}

function encodeRequest(w: Writer, version: number, req: HeartbeatRequest): void {
  const flex = version >= FLEX;
  w.string(req.groupId, flex).int32(req.generationId).string(req.memberId, flex);
  if (version >= 3) w.nullableString(req.groupInstanceId, flex);
  w.tags(flex);
}

// Response v0 => error_code:INT16
// Response v1–v3 => throttle_time_ms:INT32 error_code:INT16
// Response v4 => throttle_time_ms:INT32 error_code:INT16 TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: HeartbeatResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.int16(res.errorCode).tags(flex);
}

function decodeResponse(r: Reader, version: number): HeartbeatResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  r.tags(flex);
  return { throttleTimeMs, errorCode };
}

export const HeartbeatApi: ApiCodec<HeartbeatRequest, HeartbeatResponse> = {
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
