// Metadata (key 3), v0–v9: brokers, topics and partition leaders. v9 is flexible.
import { AUTHORIZED_OPERATIONS_OMITTED, type ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type MetadataRequestTopic = { name: string };

export type MetadataRequest = {
  /** null asks for every topic. On the wire v0 says "all" with an empty array, so a v0 [] decodes as null. */
  topics: MetadataRequestTopic[] | null;
  allowAutoTopicCreation: boolean; // v4+, default true
  includeClusterAuthorizedOperations: boolean; // v8+
  includeTopicAuthorizedOperations: boolean; // v8+
};

export type MetadataResponseBroker = { nodeId: number; host: string; port: number; rack: string | null };

export type MetadataResponsePartition = {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number; // v7+, default -1
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[]; // v5+
};

export type MetadataResponseTopic = {
  errorCode: number;
  name: string;
  isInternal: boolean; // v1+
  partitions: MetadataResponsePartition[];
  topicAuthorizedOperations: number; // v8+, default INT32_MIN
};

export type MetadataResponse = {
  throttleTimeMs: number; // v3+
  brokers: MetadataResponseBroker[];
  clusterId: string | null; // v2+
  controllerId: number; // v1+, default -1
  topics: MetadataResponseTopic[];
  clusterAuthorizedOperations: number; // v8+, default INT32_MIN
};

const FLEX = 9;

// Request v0 => [topics:name:STRING]   (an empty array means all topics)
// Request v1–v3 => topics:nullable ARRAY[name:STRING]   (null means all topics, [] none)
// Request v4–v7 => topics allow_auto_topic_creation:BOOLEAN
// Request v8 => topics allow_auto_topic_creation include_cluster_authorized_operations:BOOLEAN include_topic_authorized_operations:BOOLEAN
// Request v9 => topics:COMPACT_NULLABLE_ARRAY[name:COMPACT_STRING TAG_BUFFER] allow_auto_topic_creation
//               include_cluster_authorized_operations include_topic_authorized_operations TAG_BUFFER
function decodeRequest(r: Reader, version: number): MetadataRequest {
  const flex = version >= FLEX;
  let topics = r.nullableArray(flex, (r) => {
    const name = r.string(flex);
    r.tags(flex);
    return { name };
  });
  if (version === 0 && topics !== null && topics.length === 0) topics = null;
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  const includeClusterAuthorizedOperations = version >= 8 ? r.bool() : false;
  const includeTopicAuthorizedOperations = version >= 8 ? r.bool() : false;
  r.tags(flex);
  return { topics, allowAutoTopicCreation, includeClusterAuthorizedOperations, includeTopicAuthorizedOperations };
}

function encodeRequest(w: Writer, version: number, req: MetadataRequest): void {
  const flex = version >= FLEX;
  const topics = version === 0 ? (req.topics ?? []) : req.topics;
  w.nullableArray(topics, flex, (w, t) => {
    w.string(t.name, flex).tags(flex);
  });
  if (version >= 4) w.bool(req.allowAutoTopicCreation);
  if (version >= 8) w.bool(req.includeClusterAuthorizedOperations).bool(req.includeTopicAuthorizedOperations);
  w.tags(flex);
}

// Response v0 => [brokers:node_id:INT32 host:STRING port:INT32]
//                [topics:error_code:INT16 name:STRING [partitions:error_code:INT16 partition_index:INT32 leader_id:INT32 [replica_nodes:INT32] [isr_nodes:INT32]]]
// Response v1 => brokers gain rack:NULLABLE_STRING; controller_id:INT32 after brokers; topics gain is_internal:BOOLEAN after name
// Response v2 => cluster_id:NULLABLE_STRING between brokers and controller_id
// Response v3–v4 => throttle_time_ms:INT32 first
// Response v5–v6 => partitions gain [offline_replicas:INT32] after isr_nodes
// Response v7 => partitions gain leader_epoch:INT32 after leader_id
// Response v8 => topics gain topic_authorized_operations:INT32 last; cluster_authorized_operations:INT32 at the end
// Response v9 => the v8 layout with compact strings/arrays and TAG_BUFFER after each broker, topic, partition and the body
function encodeResponse(w: Writer, version: number, res: MetadataResponse): void {
  const flex = version >= FLEX;
  if (version >= 3) w.int32(res.throttleTimeMs);
  w.array(res.brokers, flex, (w, b) => {
    w.int32(b.nodeId).string(b.host, flex).int32(b.port);
    if (version >= 1) w.nullableString(b.rack, flex);
    w.tags(flex);
  });
  if (version >= 2) w.nullableString(res.clusterId, flex);
  if (version >= 1) w.int32(res.controllerId);
  w.array(res.topics, flex, (w, t) => {
    w.int16(t.errorCode).string(t.name, flex);
    if (version >= 1) w.bool(t.isInternal);
    w.array(t.partitions, flex, (w, p) => {
      w.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
      if (version >= 7) w.int32(p.leaderEpoch);
      w.array(p.replicaNodes, flex, writeInt32);
      w.array(p.isrNodes, flex, writeInt32);
      if (version >= 5) w.array(p.offlineReplicas, flex, writeInt32);
      w.tags(flex);
    });
    if (version >= 8) w.int32(t.topicAuthorizedOperations);
    w.tags(flex);
  });
  if (version >= 8) w.int32(res.clusterAuthorizedOperations);
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): MetadataResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const brokers = r.array(flex, (r) => {
    const nodeId = r.int32();
    const host = r.string(flex);
    const port = r.int32();
    const rack = version >= 1 ? r.nullableString(flex) : null;
    r.tags(flex);
    return { nodeId, host, port, rack };
  });
  const clusterId = version >= 2 ? r.nullableString(flex) : null;
  const controllerId = version >= 1 ? r.int32() : -1;
  const topics = r.array(flex, (r) => {
    const errorCode = r.int16();
    const name = r.string(flex);
    const isInternal = version >= 1 ? r.bool() : false;
    const partitions = r.array(flex, (r) => {
      const errorCode = r.int16();
      const partitionIndex = r.int32();
      const leaderId = r.int32();
      const leaderEpoch = version >= 7 ? r.int32() : -1;
      const replicaNodes = r.array(flex, readInt32);
      const isrNodes = r.array(flex, readInt32);
      const offlineReplicas = version >= 5 ? r.array(flex, readInt32) : [];
      r.tags(flex);
      return { errorCode, partitionIndex, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas };
    });
    const topicAuthorizedOperations = version >= 8 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
    r.tags(flex);
    return { errorCode, name, isInternal, partitions, topicAuthorizedOperations };
  });
  const clusterAuthorizedOperations = version >= 8 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
  r.tags(flex);
  return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations };
}

function writeInt32(w: Writer, v: number): void {
  w.int32(v);
}

function readInt32(r: Reader): number {
  return r.int32();
}

export const MetadataApi: ApiCodec<MetadataRequest, MetadataResponse> = {
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 9,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
