// Metadata codec: every version round-trips, and KafkaJS and @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetadataApi as api, type MetadataRequest, type MetadataResponse } from '../../../src/kafka/apis/metadata.ts';
import {
  assertRoundTrips,
  decodeRequestBytes,
  kafkajsRequestBytes,
  kafkajsDecodeResponse,
  platformaticRequestBytes,
  platformaticParseResponse,
  encodeRequestBytes,
  encodeResponseBytes,
} from './codec-test-kit.ts';

const INT32_MIN = -2147483648;

const request: MetadataRequest = {
  topics: [{ name: 'orders.raw' }, { name: 'orders.dlq' }],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: true,
  includeTopicAuthorizedOperations: true,
};

function requestAt(v: number): MetadataRequest {
  return {
    topics: request.topics,
    allowAutoTopicCreation: v >= 4 ? false : true,
    includeClusterAuthorizedOperations: v >= 8,
    includeTopicAuthorizedOperations: v >= 8,
  };
}

const response: MetadataResponse = {
  throttleTimeMs: 12,
  brokers: [
    { nodeId: 1, host: '127.0.0.1', port: 9092, rack: 'rack-a' },
    { nodeId: 2, host: 'localhost', port: 19092, rack: null },
  ],
  clusterId: 'oxbow-cluster',
  controllerId: 1,
  topics: [
    {
      errorCode: 0,
      name: 'orders.raw',
      isInternal: true,
      partitions: [
        { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 7, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] },
        { errorCode: 0, partitionIndex: 1, leaderId: 2, leaderEpoch: 3, replicaNodes: [2], isrNodes: [2], offlineReplicas: [] },
      ],
      topicAuthorizedOperations: 0x0ff8,
    },
    { errorCode: 3, name: 'missing', isInternal: false, partitions: [], topicAuthorizedOperations: 0 },
  ],
  clusterAuthorizedOperations: 0x0f00,
};

function responseAt(v: number): MetadataResponse {
  return {
    throttleTimeMs: v >= 3 ? response.throttleTimeMs : 0,
    brokers: response.brokers.map((b) => ({ ...b, rack: v >= 1 ? b.rack : null })),
    clusterId: v >= 2 ? response.clusterId : null,
    controllerId: v >= 1 ? response.controllerId : -1,
    topics: response.topics.map((t) => ({
      ...t,
      isInternal: v >= 1 ? t.isInternal : false,
      partitions: t.partitions.map((p) => ({
        ...p,
        leaderEpoch: v >= 7 ? p.leaderEpoch : -1,
        offlineReplicas: v >= 5 ? p.offlineReplicas : [],
      })),
      topicAuthorizedOperations: v >= 8 ? t.topicAuthorizedOperations : INT32_MIN,
    })),
    clusterAuthorizedOperations: v >= 8 ? response.clusterAuthorizedOperations : INT32_MIN,
  };
}

void test('advertises Metadata v0–v9, flexible from v9', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [3, 0, 9, 0, 9]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('"all topics" survives every version: null in v1+, an empty array on the wire in v0', () => {
  for (let v = 0; v <= api.maxVersion; v++) {
    assert.equal(decodeRequestBytes(api, v, encodeRequestBytes(api, v, { ...requestAt(v), topics: null })).topics, null, `v${v}`);
  }
  assert.equal(encodeRequestBytes(api, 0, { ...requestAt(0), topics: null }).toString('hex'), '00000000');
  assert.deepEqual(decodeRequestBytes(api, 4, encodeRequestBytes(api, 4, { ...requestAt(4), topics: [] })).topics, [], 'v1+ [] means no topics');
});

void test('v9 response bytes match the flexible grammar by eye', () => {
  const res: MetadataResponse = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
    clusterId: null,
    controllerId: 1,
    topics: [],
    clusterAuthorizedOperations: INT32_MIN,
  };
  // throttle | brokers n+1=2: node 1, "h", 9092, rack null, tags | cluster_id null | controller 1 | topics n+1=1 | cluster ops | tags
  const expected = '00000000' + '02' + '00000001' + '0268' + '00002384' + '00' + '00' + '00' + '00000001' + '01' + '80000000' + '00';
  assert.equal(encodeResponseBytes(api, 9, res).toString('hex'), expected);
});

void test('KafkaJS v0–v6 request bytes decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 6; v++) {
    const bytes = await kafkajsRequestBytes('metadata', v, { topics: ['orders.raw', 'orders.dlq'], allowAutoTopicCreation: false }, api.key);
    const req = decodeRequestBytes(api, v, bytes);
    assert.deepEqual(req.topics, [{ name: 'orders.raw' }, { name: 'orders.dlq' }], `v${v}`);
    assert.equal(req.allowAutoTopicCreation, v < 4, `v${v}`);
    // KafkaJS asks for all topics with an empty list: [] on the wire in v0, null in v1+. Both mean all.
    const all = await kafkajsRequestBytes('metadata', v, { topics: [] }, api.key);
    assert.equal(decodeRequestBytes(api, v, all).topics, null, `v${v} all topics`);
  }
});

type KafkaJsMetadata = {
  brokers: { nodeId: number; host: string; port: number; rack?: string | null }[];
  controllerId?: number;
  clusterId?: string | null;
  topicMetadata: {
    topic: string;
    topicErrorCode: number;
    partitionMetadata: { partitionId: number; leader: number; replicas: number[]; isr: number[]; offlineReplicas?: number[] }[];
  }[];
};

void test('KafkaJS v0–v6 decodes our responses', async () => {
  for (let v = 0; v <= 6; v++) {
    const parsed = (await kafkajsDecodeResponse('metadata', v, encodeResponseBytes(api, v, response))) as KafkaJsMetadata;
    assert.deepEqual(parsed.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, '127.0.0.1', 9092], [2, 'localhost', 19092]], `v${v}`);
    if (v >= 1) assert.equal(parsed.brokers[0]!.rack, 'rack-a');
    if (v >= 1) assert.equal(parsed.controllerId, 1);
    if (v >= 2) assert.equal(parsed.clusterId, 'oxbow-cluster');
    assert.deepEqual(parsed.topicMetadata.map((t) => [t.topic, t.topicErrorCode]), [['orders.raw', 0], ['missing', 3]], `v${v}`);
    const p0 = parsed.topicMetadata[0]!.partitionMetadata[0]!;
    assert.deepEqual([p0.partitionId, p0.leader, p0.replicas, p0.isr], [0, 1, [1, 2], [1]], `v${v}`);
    if (v >= 5) assert.deepEqual(p0.offlineReplicas, [2]);
  }
});

void test('@platformatic/kafka v0–v9 request bytes decode to what it meant', () => {
  for (let v = 0; v <= 9; v++) {
    const bytes = platformaticRequestBytes('metadata', v, ['orders.raw', 'orders.dlq'], false, true, true);
    assert.deepStrictEqual(decodeRequestBytes(api, v, bytes), requestAt(v), `v${v}`);
  }
});

type PlatformaticMetadata = {
  throttleTimeMs?: number;
  brokers: { nodeId: number; host: string; port: number; rack?: string | null }[];
  controllerId?: number;
  clusterId?: string | null;
  topics: {
    name: string;
    errorCode: number;
    isInternal?: boolean;
    partitions: { partitionIndex: number; leaderId: number; leaderEpoch?: number; replicaNodes: number[]; isrNodes: number[] }[];
  }[];
};

void test('@platformatic/kafka v0–v9 parses our responses', () => {
  for (let v = 0; v <= 9; v++) {
    const parsed = platformaticParseResponse('metadata', api.key, v, encodeResponseBytes(api, v, response)) as PlatformaticMetadata;
    assert.deepEqual(parsed.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, '127.0.0.1', 9092], [2, 'localhost', 19092]], `v${v}`);
    if (v >= 1) assert.equal(parsed.brokers[0]!.rack, 'rack-a');
    if (v >= 1) assert.equal(parsed.controllerId, 1);
    if (v >= 2) assert.equal(parsed.clusterId, 'oxbow-cluster');
    if (v >= 3) assert.equal(parsed.throttleTimeMs, 12);
    assert.deepEqual(parsed.topics.map((t) => [t.name, t.errorCode]), [['orders.raw', 0], ['missing', 3]], `v${v}`);
    if (v >= 1) assert.equal(parsed.topics[0]!.isInternal, true);
    const p0 = parsed.topics[0]!.partitions[0]!;
    assert.deepEqual([p0.partitionIndex, p0.leaderId, p0.replicaNodes, p0.isrNodes], [0, 1, [1, 2], [1]], `v${v}`);
    if (v >= 7) assert.equal(p0.leaderEpoch, 7);
  }
});
