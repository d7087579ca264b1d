// DeleteTopics (key 20), v0–v6. v4+ is flexible; v6 names topics by name or id instead of a list of names.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type DeleteTopicState = { name: string | null; topicId: Buffer };

export type DeleteTopicsRequest = {
  topics: DeleteTopicState[]; // v6+
  topicNames: string[]; // v0–v5
  timeoutMs: number;
};

export type DeletableTopicResult = {
  name: string | null; // nullable in v6+
  topicId: Buffer; // v6+, default all zeros
  errorCode: number;
  errorMessage: string | null; // v5+, default null
};

export type DeleteTopicsResponse = {
  throttleTimeMs: number; // v1+
  responses: DeletableTopicResult[];
};

const FLEX = 4;

// Request v0–v3 => [topic_names:STRING] timeout_ms:INT32
// Request v4–v5 => topic_names:COMPACT_ARRAY[COMPACT_STRING] timeout_ms TAG_BUFFER
// Request v6 => [topics:name:COMPACT_NULLABLE_STRING topic_id:UUID TAG_BUFFER] timeout_ms TAG_BUFFER
function decodeRequest(r: Reader, version: number): DeleteTopicsRequest {
  const flex = version >= FLEX;
  let topics: DeleteTopicState[] = [];
  let topicNames: string[] = [];
  if (version >= 6) {
    topics = r.array(flex, (r) => {
      const name = r.nullableString(flex);
      const topicId = r.uuid();
      r.tags(flex);
      return { name, topicId };
    });
  } else {
    topicNames = r.array(flex, (r) => r.string(flex));
  }
  const timeoutMs = r.int32();
  r.tags(flex);
  return { topics, topicNames, timeoutMs };
}

function encodeRequest(w: Writer, version: number, req: DeleteTopicsRequest): void {
  const flex = version >= FLEX;
  if (version >= 6) {
    w.array(req.topics, flex, (w, t) => {
      w.nullableString(t.name, flex).uuid(t.topicId).tags(flex);
    });
  } else {
    w.array(req.topicNames, flex, (w, name) => {
      w.string(name, flex);
    });
  }
  w.int32(req.timeoutMs).tags(flex);
}

// Response v0 => [responses:name:STRING error_code:INT16]
// Response v1–v3 => throttle_time_ms:INT32 [responses]
// Response v4 => throttle_time_ms [responses:name:COMPACT_STRING error_code TAG_BUFFER] TAG_BUFFER
// Response v5 => responses: name error_code error_message:COMPACT_NULLABLE_STRING TAG_BUFFER
// Response v6 => responses: name:COMPACT_NULLABLE_STRING topic_id:UUID error_code error_message TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: DeleteTopicsResponse): void {
  const flex = version >= FLEX;
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.array(res.responses, flex, (w, t) => {
    if (version >= 6) w.nullableString(t.name, flex).uuid(t.topicId);
    else w.string(t.name ?? '', flex);
    w.int16(t.errorCode);
    if (version >= 5) w.nullableString(t.errorMessage, flex);
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): DeleteTopicsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const responses = r.array(flex, (r) => {
    const name = version >= 6 ? r.nullableString(flex) : r.string(flex);
    const topicId = version >= 6 ? r.uuid() : Buffer.alloc(16);
    const errorCode = r.int16();
    const errorMessage = version >= 5 ? r.nullableString(flex) : null;
    r.tags(flex);
    return { name, topicId, errorCode, errorMessage };
  });
  r.tags(flex);
  return { throttleTimeMs, responses };
}

export const DeleteTopicsApi: ApiCodec<DeleteTopicsRequest, DeleteTopicsResponse> = {
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
