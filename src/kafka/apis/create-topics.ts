// CreateTopics (key 19), v0–v7. v5+ is flexible and returns the created topic's settings; v7 adds topic ids.
import type { ApiCodec } from '../api.ts';
import { Reader } from '../reader.ts';
import { Writer } from '../writer.ts';

export type CreatableReplicaAssignment = { partitionIndex: number; brokerIds: number[] };

export type CreatableTopicConfig = { name: string; value: string | null };

export type CreatableTopic = {
  name: string;
  /** -1 asks for the broker default (v4+ clients). */
  numPartitions: number;
  replicationFactor: number;
  assignments: CreatableReplicaAssignment[];
  configs: CreatableTopicConfig[];
};

export type CreateTopicsRequest = {
  topics: CreatableTopic[];
  timeoutMs: number; // default 60000
  validateOnly: boolean; // v1+, default false
};

export type CreatableTopicConfigs = {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number; // default -1
  isSensitive: boolean;
};

export type CreatableTopicResult = {
  name: string;
  topicId: Buffer; // v7+, default all zeros
  errorCode: number;
  errorMessage: string | null; // v1+, default null
  topicConfigErrorCode: number; // v5+ tagged (tag 0), default 0
  numPartitions: number; // v5+, default -1
  replicationFactor: number; // v5+, default -1
  configs: CreatableTopicConfigs[] | null; // v5+, default null
};

export type CreateTopicsResponse = {
  throttleTimeMs: number; // v2+
  topics: CreatableTopicResult[];
};

const FLEX = 5;
const TAG_TOPIC_CONFIG_ERROR_CODE = 0;

// Request v0 => [topics:name:STRING num_partitions:INT32 replication_factor:INT16
//                [assignments:partition_index:INT32 [broker_ids:INT32]] [configs:name:STRING value:NULLABLE_STRING]] timeout_ms:INT32
// Request v1–v4 => [topics] timeout_ms validate_only:BOOLEAN
// Request v5–v7 => compact strings/arrays; TAG_BUFFER after each assignment, config, topic and the body
function decodeRequest(r: Reader, version: number): CreateTopicsRequest {
  const flex = version >= FLEX;
  const topics = r.array(flex, (r) => {
    const name = r.string(flex);
    const numPartitions = r.int32();
    const replicationFactor = r.int16();
    const assignments = r.array(flex, (r) => {
      const partitionIndex = r.int32();
      const brokerIds = r.array(flex, (r) => r.int32());
      r.tags(flex);
      return { partitionIndex, brokerIds };
    });
    const configs = r.array(flex, (r) => {
      const name = r.string(flex);
      const value = r.nullableString(flex);
      r.tags(flex);
      return { name, value };
    });
    r.tags(flex);
    return { name, numPartitions, replicationFactor, assignments, configs };
  });
  const timeoutMs = r.int32();
  const validateOnly = version >= 1 ? r.bool() : false;
  r.tags(flex);
  return { topics, timeoutMs, validateOnly };
}

function encodeRequest(w: Writer, version: number, req: CreateTopicsRequest): void {
  const flex = version >= FLEX;
  w.array(req.topics, flex, (w, t) => {
    w.string(t.name, flex).int32(t.numPartitions).int16(t.replicationFactor);
    w.array(t.assignments, flex, (w, a) => {
      w.int32(a.partitionIndex);
      w.array(a.brokerIds, flex, (w, id) => {
        w.int32(id);
      });
      w.tags(flex);
    });
    w.array(t.configs, flex, (w, c) => {
      w.string(c.name, flex).nullableString(c.value, flex).tags(flex);
    });
    w.tags(flex);
  });
  w.int32(req.timeoutMs);
  if (version >= 1) w.bool(req.validateOnly);
  w.tags(flex);
}

// Response v0 => [topics:name:STRING error_code:INT16]
// Response v1 => [topics:name error_code error_message:NULLABLE_STRING]
// Response v2–v4 => throttle_time_ms:INT32 [topics]
// Response v5–v6 => throttle_time_ms [topics:name error_code error_message num_partitions:INT32 replication_factor:INT16
//                   [configs:name value:COMPACT_NULLABLE_STRING read_only:BOOLEAN config_source:INT8 is_sensitive:BOOLEAN TAG_BUFFER]
//                   (nullable) TAG_BUFFER] TAG_BUFFER; topic tag 0 = topic_config_error_code:INT16
// Response v7 => topics: name topic_id:UUID error_code ...
function encodeResponse(w: Writer, version: number, res: CreateTopicsResponse): void {
  const flex = version >= FLEX;
  if (version >= 2) w.int32(res.throttleTimeMs);
  w.array(res.topics, flex, (w, t) => {
    w.string(t.name, flex);
    if (version >= 7) w.uuid(t.topicId);
    w.int16(t.errorCode);
    if (version >= 1) w.nullableString(t.errorMessage, flex);
    if (version >= 5) {
      w.int32(t.numPartitions).int16(t.replicationFactor);
      w.nullableArray(t.configs, flex, (w, c) => {
        w.string(c.name, flex).nullableString(c.value, flex).bool(c.readOnly).int8(c.configSource).bool(c.isSensitive).tags(flex);
      });
    }
    if (flex && t.topicConfigErrorCode !== 0) {
      w.tags(true, new Map([[TAG_TOPIC_CONFIG_ERROR_CODE, new Writer(2).int16(t.topicConfigErrorCode).bytesWritten()]]));
    } else {
      w.tags(flex);
    }
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): CreateTopicsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const topics = r.array(flex, (r): CreatableTopicResult => {
    const name = r.string(flex);
    const topicId = version >= 7 ? r.uuid() : Buffer.alloc(16);
    const errorCode = r.int16();
    const errorMessage = version >= 1 ? r.nullableString(flex) : null;
    let numPartitions = -1;
    let replicationFactor = -1;
    let configs: CreatableTopicConfigs[] | null = null;
    if (version >= 5) {
      numPartitions = r.int32();
      replicationFactor = r.int16();
      configs = r.nullableArray(flex, (r) => {
        const name = r.string(flex);
        const value = r.nullableString(flex);
        const readOnly = r.bool();
        const configSource = r.int8();
        const isSensitive = r.bool();
        r.tags(flex);
        return { name, value, readOnly, configSource, isSensitive };
      });
    }
    let topicConfigErrorCode = 0;
    if (flex) {
      const tagged = r.taggedFields().get(TAG_TOPIC_CONFIG_ERROR_CODE);
      if (tagged !== undefined) topicConfigErrorCode = new Reader(tagged).int16();
    }
    return { name, topicId, errorCode, errorMessage, topicConfigErrorCode, numPartitions, replicationFactor, configs };
  });
  r.tags(flex);
  return { throttleTimeMs, topics };
}

export const CreateTopicsApi: ApiCodec<CreateTopicsRequest, CreateTopicsResponse> = {
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
