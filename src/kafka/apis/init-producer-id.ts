// InitProducerId (key 22), v0–v4: allocates a producer id and epoch for idempotent or transactional producers.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type InitProducerIdRequest = {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  producerId: number; // v3+, default -1 (an existing id whose epoch should be bumped, KIP-360)
  producerEpoch: number; // v3+, default -1
};

export type InitProducerIdResponse = {
  throttleTimeMs: number;
  errorCode: number;
  producerId: number;
  producerEpoch: number;
};

const FLEX = 2;

// Request v0–v1 => transactional_id:NULLABLE_STRING transaction_timeout_ms:INT32
// Request v2 => transactional_id:COMPACT_NULLABLE_STRING transaction_timeout_ms TAG_BUFFER
// Request v3–v4 => transactional_id transaction_timeout_ms producer_id:INT64 producer_epoch:INT16 TAG_BUFFER
function decodeRequest(r: Reader, version: number): InitProducerIdRequest {
  const flex = version >= FLEX;
  const transactionalId = r.nullableString(flex);
  const transactionTimeoutMs = r.int32();
  const producerId = version >= 3 ? r.int64() : -1;
  const producerEpoch = version >= 3 ? r.int16() : -1;
  r.tags(flex);
  return { transactionalId, transactionTimeoutMs, producerId, producerEpoch };
}

function encodeRequest(w: Writer, version: number, req: InitProducerIdRequest): void {
  const flex = version >= FLEX;
  w.nullableString(req.transactionalId, flex).int32(req.transactionTimeoutMs);
  if (version >= 3) w.int64(req.producerId).int16(req.producerEpoch);
  w.tags(flex);
}

// Response v0–v1 => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16
// Response v2–v4 => the same fields, then TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: InitProducerIdResponse): void {
  const flex = version >= FLEX;
  w.int32(res.throttleTimeMs).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch).tags(flex);
}

function decodeResponse(r: Reader, version: number): InitProducerIdResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  r.tags(flex);
  return { throttleTimeMs, errorCode, producerId, producerEpoch };
}

export const InitProducerIdApi: ApiCodec<InitProducerIdRequest, InitProducerIdResponse> = {
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
