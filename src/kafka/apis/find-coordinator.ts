// FindCoordinator (key 10), v0–v4. v3+ is flexible; v4 batches keys (KIP-699).
//
// One shape serves every version. v0–v3 ask about a single `key` and answer with one node at the top
// level; v4 asks about `coordinator_keys[]` and answers with `coordinators[]`. So:
//   - a decoded v0–v3 request has coordinatorKeys = [key]; encoding v0–v3 needs exactly one key;
//   - a decoded v0–v3 response has coordinators = [{ key: '', ...top-level fields }] (the old response does
//     not echo the key); encoding v0–v3 needs exactly one coordinator, and its key is not sent.
import { assert } from '../../errors.ts';
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export const CoordinatorKeyType = { GROUP: 0, TRANSACTION: 1 } as const;
export type CoordinatorKeyType = (typeof CoordinatorKeyType)[keyof typeof CoordinatorKeyType];

export type FindCoordinatorRequest = {
  keyType: number; // v1+ (default 0 = group)
  coordinatorKeys: string[]; // v4+; v0–v3 `key` as a one-element list
};

export type Coordinator = {
  key: string; // v4+ ('' when decoded from v0–v3)
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null; // v1+
};

export type FindCoordinatorResponse = {
  throttleTimeMs: number; // v1+
  coordinators: Coordinator[]; // v4+; v0–v3 top-level fields as a one-element list
};

const FLEX = 3;
const BATCHED = 4;

// Request v0 => key:STRING
// Request v1–v2 => key:STRING key_type:INT8
// Request v3 => key:COMPACT_STRING key_type:INT8 TAG_BUFFER
// Request v4 => key_type:INT8 coordinator_keys:COMPACT_ARRAY[COMPACT_STRING] TAG_BUFFER
function decodeRequest(r: Reader, version: number): FindCoordinatorRequest {
  const flex = version >= FLEX;
  if (version >= BATCHED) {
    const keyType = r.int8();
    const coordinatorKeys = r.array(flex, (r) => r.string(flex));
    r.tags(flex);
    return { keyType, coordinatorKeys };
  }
  const key = r.string(flex);
  const keyType = version >= 1 ? r.int8() : 0;
  r.tags(flex);
  return { keyType, coordinatorKeys: [key] };
}

function encodeRequest(w: Writer, version: number, req: FindCoordinatorRequest): void {
  const flex = version >= FLEX;
  if (version >= BATCHED) {
    w.int8(req.keyType).array(req.coordinatorKeys, flex, (w, k) => w.string(k, flex)).tags(flex);
    return;
  }
  const [key] = req.coordinatorKeys;
  assert(req.coordinatorKeys.length === 1 && key !== undefined, `FindCoordinator v${version} carries exactly one key`);
  w.string(key, flex);
  if (version >= 1) w.int8(req.keyType);
  w.tags(flex);
}

// Response v0 => error_code:INT16 node_id:INT32 host:STRING port:INT32
// Response v1–v2 => throttle_time_ms:INT32 error_code:INT16 error_message:NULLABLE_STRING node_id:INT32 host:STRING port:INT32
// Response v3 => throttle_time_ms:INT32 error_code:INT16 error_message:COMPACT_NULLABLE_STRING node_id:INT32
//                host:COMPACT_STRING port:INT32 TAG_BUFFER
// Response v4 => throttle_time_ms:INT32 coordinators:COMPACT_ARRAY[key:COMPACT_STRING node_id:INT32 host:COMPACT_STRING
//                port:INT32 error_code:INT16 error_message:COMPACT_NULLABLE_STRING TAG_BUFFER] TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: FindCoordinatorResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  if (version >= BATCHED) {
    w.array(res.coordinators, flex, (w, c) => {
      w.string(c.key, flex).int32(c.nodeId).string(c.host, flex).int32(c.port).int16(c.errorCode);
      w.nullableString(c.errorMessage, flex).tags(flex);
    });
    w.tags(flex);
    return;
  }
  const [c] = res.coordinators;
  assert(res.coordinators.length === 1 && c !== undefined, `FindCoordinator v${version} answers with exactly one coordinator`);
  w.int16(c.errorCode);
  if (version >= 1) w.nullableString(c.errorMessage, flex);
  w.int32(c.nodeId).string(c.host, flex).int32(c.port).tags(flex);
}

function decodeResponse(r: Reader, version: number): FindCoordinatorResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  if (version >= BATCHED) {
    const coordinators = r.array(flex, (r): Coordinator => {
      const c = {
        key: r.string(flex),
        nodeId: r.int32(),
        host: r.string(flex),
        port: r.int32(),
        errorCode: r.int16(),
        errorMessage: r.nullableString(flex),
      };
      r.tags(flex);
      return c;
    });
    r.tags(flex);
    return { throttleTimeMs, coordinators };
  }
  const errorCode = r.int16();
  const errorMessage = version >= 1 ? r.nullableString(flex) : null;
  const nodeId = r.int32();
  const host = r.string(flex);
  const port = r.int32();
  r.tags(flex);
  return { throttleTimeMs, coordinators: [{ key: '', nodeId, host, port, errorCode, errorMessage }] };
}

export const FindCoordinatorApi: ApiCodec<FindCoordinatorRequest, FindCoordinatorResponse> = {
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
