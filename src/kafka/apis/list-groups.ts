// ListGroups (key 16), v0–v4. v3+ is flexible; v4 adds a state filter and each group's state (KIP-518).
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type ListGroupsRequest = {
  /** v4+; [] lists groups in every state. */
  statesFilter: string[];
};

export type ListedGroup = {
  groupId: string;
  protocolType: string;
  groupState: string; // v4+
};

export type ListGroupsResponse = {
  throttleTimeMs: number; // v1+
  errorCode: number;
  groups: ListedGroup[];
};

const FLEX = 3;

// Request v0–v2 => (empty)
// Request v3 => TAG_BUFFER
// Request v4 => states_filter:COMPACT_ARRAY[COMPACT_STRING] TAG_BUFFER
function decodeRequest(r: Reader, version: number): ListGroupsRequest {
  const flex = version >= FLEX;
  const statesFilter = version >= 4 ? r.array(flex, (r) => r.string(flex)) : [];
  r.tags(flex);
  return { statesFilter };
}

function encodeRequest(w: Writer, version: number, req: ListGroupsRequest): void {
  const flex = version >= FLEX;
  if (version >= 4) w.array(req.statesFilter, flex, (w, s) => w.string(s, flex));
  w.tags(flex);
}

// Response v0 => error_code:INT16 groups:ARRAY[group_id:STRING protocol_type:STRING]
// Response v1–v2 => throttle_time_ms:INT32 error_code:INT16 groups:ARRAY[group_id:STRING protocol_type:STRING]
// Response v3 => throttle_time_ms:INT32 error_code:INT16
//                groups:COMPACT_ARRAY[group_id:COMPACT_STRING protocol_type:COMPACT_STRING TAG_BUFFER] TAG_BUFFER
// Response v4 => throttle_time_ms:INT32 error_code:INT16
//                groups:COMPACT_ARRAY[group_id:COMPACT_STRING protocol_type:COMPACT_STRING group_state:COMPACT_STRING
//                TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: ListGroupsResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.int16(res.errorCode);
  w.array(res.groups, flex, (w, g) => {
    w.string(g.groupId, flex).string(g.protocolType, flex);
    if (version >= 4) w.string(g.groupState, flex);
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): ListGroupsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const groups = r.array(flex, (r): ListedGroup => {
    const groupId = r.string(flex);
    const protocolType = r.string(flex);
    const groupState = version >= 4 ? r.string(flex) : '';
    r.tags(flex);
    return { groupId, protocolType, groupState };
  });
  r.tags(flex);
  return { throttleTimeMs, errorCode, groups };
}

export const ListGroupsApi: ApiCodec<ListGroupsRequest, ListGroupsResponse> = {
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
