// Produce (key 0), v0–v7. Record batches stay opaque bytes here; v0–v2 carry old message formats that the
// broker decodes only to answer UNSUPPORTED_VERSION. No advertised version is flexible (that starts at v9).
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type ProducePartitionData = {
  index: number;
  /** The record batches exactly as sent: a view into the request frame, not a copy. */
  records: Buffer | null;
};

export type ProduceTopicData = { name: string; partitionData: ProducePartitionData[] };

export type ProduceRequest = {
  transactionalId: string | null; // v3+, default null
  acks: number;
  timeoutMs: number;
  topicData: ProduceTopicData[];
};

export type ProducePartitionResponse = {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number; // v2+, default -1
  logStartOffset: number; // v5+, default -1
};

export type ProduceTopicResponse = { name: string; partitionResponses: ProducePartitionResponse[] };

export type ProduceResponse = {
  responses: ProduceTopicResponse[];
  throttleTimeMs: number; // v1+
};

const FLEX = 9;

// Request v0–v2 => acks:INT16 timeout_ms:INT32 [topic_data:name:STRING [partition_data:index:INT32 records:NULLABLE_BYTES]]
// Request v3–v7 => transactional_id:NULLABLE_STRING acks timeout_ms [topic_data]   (v3+ records are record batches v2)
function decodeRequest(r: Reader, version: number): ProduceRequest {
  const flex = version >= FLEX;
  const transactionalId = version >= 3 ? r.nullableString(flex) : null;
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topicData = r.array(flex, (r) => {
    const name = r.string(flex);
    const partitionData = r.array(flex, (r) => {
      const index = r.int32();
      const records = r.nullableBytes(flex);
      r.tags(flex);
      return { index, records };
    });
    r.tags(flex);
    return { name, partitionData };
  });
  r.tags(flex);
  return { transactionalId, acks, timeoutMs, topicData };
}

function encodeRequest(w: Writer, version: number, req: ProduceRequest): void {
  const flex = version >= FLEX;
  if (version >= 3) w.nullableString(req.transactionalId, flex);
  w.int16(req.acks).int32(req.timeoutMs);
  w.array(req.topicData, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitionData, flex, (w, p) => {
      w.int32(p.index).nullableBytes(p.records, flex).tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

// Response v0 => [responses:name:STRING [partition_responses:index:INT32 error_code:INT16 base_offset:INT64]]
// Response v1 => [responses] throttle_time_ms:INT32
// Response v2–v4 => partition_responses gain log_append_time_ms:INT64 after base_offset
// Response v5–v7 => partition_responses gain log_start_offset:INT64 after log_append_time_ms
function encodeResponse(w: Writer, version: number, res: ProduceResponse): void {
  const flex = version >= FLEX;
  w.array(res.responses, flex, (w, t) => {
    w.string(t.name, flex);
    w.array(t.partitionResponses, flex, (w, p) => {
      w.int32(p.index).int16(p.errorCode).int64(p.baseOffset);
      if (version >= 2) w.int64(p.logAppendTimeMs);
      if (version >= 5) w.int64(p.logStartOffset);
      w.tags(flex);
    });
    w.tags(flex);
  });
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): ProduceResponse {
  const flex = version >= FLEX;
  const responses = r.array(flex, (r) => {
    const name = r.string(flex);
    const partitionResponses = r.array(flex, (r) => {
      const index = r.int32();
      const errorCode = r.int16();
      const baseOffset = r.int64();
      const logAppendTimeMs = version >= 2 ? r.int64() : -1;
      const logStartOffset = version >= 5 ? r.int64() : -1;
      r.tags(flex);
      return { index, errorCode, baseOffset, logAppendTimeMs, logStartOffset };
    });
    r.tags(flex);
    return { name, partitionResponses };
  });
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  r.tags(flex);
  return { responses, throttleTimeMs };
}

export const ProduceApi: ApiCodec<ProduceRequest, ProduceResponse> = {
  key: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 7,
  minImplementedVersion: 3,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
