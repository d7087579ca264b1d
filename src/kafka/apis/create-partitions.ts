// CreatePartitions (key 37), v0–v3: raises a topic's partition count. v2+ is flexible.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type CreatePartitionsAssignment = { brokerIds: number[] };

export type CreatePartitionsTopic = {
  name: string;
  /** The new total number of partitions, not the number to add. */
  count: number;
  /** null lets the broker place the new partitions. */
  assignments: CreatePartitionsAssignment[] | null;
};

export type CreatePartitionsRequest = {
  topics: CreatePartitionsTopic[];
  timeoutMs: number;
  validateOnly: boolean;
};

export type CreatePartitionsTopicResult = { name: string; errorCode: number; errorMessage: string | null };

export type CreatePartitionsResponse = {
  throttleTimeMs: number;
  results: CreatePartitionsTopicResult[];
};

const FLEX = 2;

// Request v0–v1 => [topics:name:STRING count:INT32 [assignments:[broker_ids:INT32]] (nullable)] timeout_ms:INT32 validate_only:BOOLEAN
// Request v2–v3 => compact strings/arrays; TAG_BUFFER after each assignment, topic and the body
function decodeRequest(r: Reader, version: number): CreatePartitionsRequest {
  const flex = version >= FLEX;
  const topics = r.array(flex, (r) => {
    const name = r.string(flex);
    const count = r.int32();
    const assignments = r.nullableArray(flex, (r) => {
      const brokerIds = r.array(flex, (r) => r.int32());
      r.tags(flex);
      return { brokerIds };
    });
    r.tags(flex);
    return { name, count, assignments };
  });
  const timeoutMs = r.int32();
  const validateOnly = r.bool();
  r.tags(flex);
  return { topics, timeoutMs, validateOnly };
}

function encodeRequest(w: Writer, version: number, req: CreatePartitionsRequest): void {
  const flex = version >= FLEX;
  w.array(req.topics, flex, (w, t) => {
    w.string(t.name, flex).int32(t.count);
    w.nullableArray(t.assignments, flex, (w, a) => {
      w.array(a.brokerIds, flex, (w, id) => {
        w.int32(id);
      });
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.int32(req.timeoutMs).bool(req.validateOnly).tags(flex);
}

// Response v0–v1 => throttle_time_ms:INT32 [results:name:STRING error_code:INT16 error_message:NULLABLE_STRING]
// Response v2–v3 => compact strings/arrays; TAG_BUFFER after each result and the body
function encodeResponse(w: Writer, version: number, res: CreatePartitionsResponse): void {
  const flex = version >= FLEX;
  w.int32(res.throttleTimeMs);
  w.array(res.results, flex, (w, t) => {
    w.string(t.name, flex).int16(t.errorCode).nullableString(t.errorMessage, flex).tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): CreatePartitionsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = r.int32();
  const results = r.array(flex, (r) => {
    const name = r.string(flex);
    const errorCode = r.int16();
    const errorMessage = r.nullableString(flex);
    r.tags(flex);
    return { name, errorCode, errorMessage };
  });
  r.tags(flex);
  return { throttleTimeMs, results };
}

export const CreatePartitionsApi: ApiCodec<CreatePartitionsRequest, CreatePartitionsResponse> = {
  key: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
