// DescribeGroups (key 15), v0–v5. v5 is flexible. Member metadata and assignments are opaque bytes.
import { AUTHORIZED_OPERATIONS_OMITTED, type ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type DescribeGroupsRequest = {
  groups: string[];
  includeAuthorizedOperations: boolean; // v3+
};

export type DescribedGroupMember = {
  memberId: string;
  groupInstanceId: string | null; // v4+
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
};

export type DescribedGroup = {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  /** The chosen protocol (assignor) name while Stable, else ''. */
  protocolData: string;
  members: DescribedGroupMember[];
  /** v3+; INT32_MIN (the default) means "not requested". */
  authorizedOperations: number;
};

export type DescribeGroupsResponse = {
  throttleTimeMs: number; // v1+
  groups: DescribedGroup[];
};


const FLEX = 5;

// Request v0–v2 => groups:ARRAY[STRING]
// Request v3–v4 => groups:ARRAY[STRING] include_authorized_operations:BOOL
// Request v5 => groups:COMPACT_ARRAY[COMPACT_STRING] include_authorized_operations:BOOL TAG_BUFFER
function decodeRequest(r: Reader, version: number): DescribeGroupsRequest {
  const flex = version >= FLEX;
  const groups = r.array(flex, (r) => r.string(flex));
  const includeAuthorizedOperations = version >= 3 ? r.bool() : false;
  r.tags(flex);
  return { groups, includeAuthorizedOperations };
}

function encodeRequest(w: Writer, version: number, req: DescribeGroupsRequest): void {
  const flex = version >= FLEX;
  w.array(req.groups, flex, (w, g) => w.string(g, flex));
  if (version >= 3) w.bool(req.includeAuthorizedOperations);
  w.tags(flex);
}

// Member (v0–v3) => member_id:STRING client_id:STRING client_host:STRING member_metadata:BYTES member_assignment:BYTES
// Member (v4) => member_id:STRING group_instance_id:NULLABLE_STRING client_id:STRING client_host:STRING
//                member_metadata:BYTES member_assignment:BYTES
// Member (v5) => member_id:COMPACT_STRING group_instance_id:COMPACT_NULLABLE_STRING client_id:COMPACT_STRING
//                client_host:COMPACT_STRING member_metadata:COMPACT_BYTES member_assignment:COMPACT_BYTES TAG_BUFFER
// Group (v0–v2) => error_code:INT16 group_id:STRING group_state:STRING protocol_type:STRING protocol_data:STRING
//                  members:ARRAY[Member]
// Group (v3–v4) => Group (v0–v2) authorized_operations:INT32
// Group (v5) => error_code:INT16 group_id:COMPACT_STRING group_state:COMPACT_STRING protocol_type:COMPACT_STRING
//               protocol_data:COMPACT_STRING members:COMPACT_ARRAY[Member] authorized_operations:INT32 TAG_BUFFER
// Response v0 => groups:ARRAY[Group]
// Response v1–v4 => throttle_time_ms:INT32 groups:ARRAY[Group]
// Response v5 => throttle_time_ms:INT32 groups:COMPACT_ARRAY[Group] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: DescribeGroupsResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.array(res.groups, flex, (w, g) => {
    w.int16(g.errorCode).string(g.groupId, flex).string(g.groupState, flex);
    w.string(g.protocolType, flex).string(g.protocolData, flex);
    w.array(g.members, flex, (w, m) => {
      w.string(m.memberId, flex);
      if (version >= 4) w.nullableString(m.groupInstanceId, flex);
      w.string(m.clientId, flex).string(m.clientHost, flex);
      w.bytes(m.memberMetadata, flex).bytes(m.memberAssignment, flex).tags(flex);
    });
    if (version >= 3) w.int32(g.authorizedOperations);
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): DescribeGroupsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const groups = r.array(flex, (r): DescribedGroup => {
    const errorCode = r.int16();
    const groupId = r.string(flex);
    const groupState = r.string(flex);
    const protocolType = r.string(flex);
    const protocolData = r.string(flex);
    const members = r.array(flex, (r): DescribedGroupMember => {
      const memberId = r.string(flex);
      const groupInstanceId = version >= 4 ? r.nullableString(flex) : null;
      const clientId = r.string(flex);
      const clientHost = r.string(flex);
      const memberMetadata = r.bytes(flex);
      const memberAssignment = r.bytes(flex);
      r.tags(flex);
      return { memberId, groupInstanceId, clientId, clientHost, memberMetadata, memberAssignment };
    });
    const authorizedOperations = version >= 3 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
    r.tags(flex);
    return { errorCode, groupId, groupState, protocolType, protocolData, members, authorizedOperations };
  });
  r.tags(flex);
  return { throttleTimeMs, groups };
}

export const DescribeGroupsApi: ApiCodec<DescribeGroupsRequest, DescribeGroupsResponse> = {
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
