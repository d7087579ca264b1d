// CreateTopics codec: every version round-trips (v5 tagged config error included), and KafkaJS and
// @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateTopicsApi as api, type CreateTopicsRequest, type CreateTopicsResponse } from '../../../src/kafka/apis/create-topics.ts';
import { assertRoundTrips, decodeRequestBytes, decodeResponseBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const request: CreateTopicsRequest = {
  topics: [
    {
      name: 'orders.raw',
      numPartitions: 4,
      replicationFactor: 1,
      assignments: [],
      configs: [{ name: 'retention.ms', value: '604800000' }, { name: 'cleanup.policy', value: null }],
    },
    { name: 'orders.dlq', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: [] },
  ],
  timeoutMs: 30_000,
  validateOnly: true,
};

function requestAt(v: number): CreateTopicsRequest {
  return { ...request, validateOnly: v >= 1 ? request.validateOnly : false };
}

const topicId = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

const response: CreateTopicsResponse = {
  throttleTimeMs: 5,
  topics: [
    {
      name: 'orders.raw',
      topicId,
      errorCode: 0,
      errorMessage: null,
      topicConfigErrorCode: 40,
      numPartitions: 4,
      replicationFactor: 1,
      configs: [{ name: 'retention.ms', value: '604800000', readOnly: false, configSource: 1, isSensitive: false }],
    },
    {
      name: 'orders.dlq',
      topicId: Buffer.alloc(16),
      errorCode: 36,
      errorMessage: 'Topic already exists.',
      topicConfigErrorCode: 0,
      numPartitions: -1,
      replicationFactor: -1,
      configs: null,
    },
  ],
};

function responseAt(v: number): CreateTopicsResponse {
  return {
    throttleTimeMs: v >= 2 ? response.throttleTimeMs : 0,
    topics: response.topics.map((t) => ({
      ...t,
      topicId: v >= 7 ? t.topicId : Buffer.alloc(16),
      errorMessage: v >= 1 ? t.errorMessage : null,
      topicConfigErrorCode: v >= 5 ? t.topicConfigErrorCode : 0,
      numPartitions: v >= 5 ? t.numPartitions : -1,
      replicationFactor: v >= 5 ? t.replicationFactor : -1,
      configs: v >= 5 ? t.configs : null,
    })),
  };
}

void test('advertises CreateTopics v0–v7, flexible from v5', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [19, 0, 7, 0, 5]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('v5+ topic_config_error_code travels as tag 0 of the topic, and only when set', () => {
  const one = (code: number): CreateTopicsResponse => ({ throttleTimeMs: 0, topics: [{ ...responseAt(5).topics[1]!, topicConfigErrorCode: code }] });
  const plain = encodeResponseBytes(api, 5, one(0));
  const tagged = encodeResponseBytes(api, 5, one(40));
  // after configs (null: 00) the topic's tag buffer grows from 00 to: 1 field, tag 0, 2 bytes, 0x0028; then the body's
  assert.equal(plain.subarray(-3).toString('hex'), '00' + '00' + '00');
  assert.equal(tagged.subarray(-7).toString('hex'), '00' + '01' + '00' + '02' + '0028' + '00');
  assert.equal(decodeResponseBytes(api, 5, tagged).topics[0]!.topicConfigErrorCode, 40);
});

void test('KafkaJS v0–v3 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 3; v++) {
    const bytes = await kafkajsRequestBytes('createTopics', v, {
      topics: [
        { topic: 'orders.raw', numPartitions: 4, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] },
        { topic: 'orders.dlq', replicaAssignment: [{ partition: 0, replicas: [1] }] },
      ],
      timeout: 30_000,
      validateOnly: true,
    }, api.key);
    assert.deepStrictEqual(decodeRequestBytes(api, v, bytes), {
      topics: [
        { name: 'orders.raw', numPartitions: 4, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '604800000' }] },
        { name: 'orders.dlq', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: [] },
      ],
      timeoutMs: 30_000,
      validateOnly: v >= 1,
    }, `v${v}`);
  }
});

void test('KafkaJS v0–v3 decodes our responses', async () => {
  for (let v = 0; v <= 3; v++) {
    const parsed = (await kafkajsDecodeResponse('createTopics', v, encodeResponseBytes(api, v, response))) as {
      topicErrors: { topic: string; errorCode: number; errorMessage?: string }[];
    };
    // KafkaJS sorts the results by topic name
    assert.deepEqual(parsed.topicErrors.map((t) => [t.topic, t.errorCode]), [['orders.dlq', 36], ['orders.raw', 0]], `v${v}`);
    if (v >= 1) assert.equal(parsed.topicErrors[0]!.errorMessage, 'Topic already exists.');
  }
});

void test('@platformatic/kafka v0–v7 requests decode to what it meant', () => {
  for (let v = 0; v <= 7; v++) {
    // platformatic writes every config value as a string, so give it no null values
    const topics = requestAt(7).topics.map((t) => ({ ...t, configs: t.configs.filter((c) => c.value !== null) }));
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('createTopics', v, topics, 30_000, true));
    assert.deepStrictEqual(req, { topics, timeoutMs: 30_000, validateOnly: v >= 1 }, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v7 parses our responses', () => {
  for (let v = 0; v <= 7; v++) {
    const parsed = platformaticParseResponse('createTopics', api.key, v, encodeResponseBytes(api, v, response)) as {
      topics: { name: string; topicId?: string; errorCode: number; errorMessage?: string | null; numPartitions?: number; configs?: { name: string; value: string | null }[] | null; topicConfigErrorCode?: number }[];
    };
    assert.deepEqual(parsed.topics.map((t) => [t.name, t.errorCode]), [['orders.raw', 0], ['orders.dlq', 36]], `v${v}`);
    if (v >= 1) assert.equal(parsed.topics[1]!.errorMessage, 'Topic already exists.');
    if (v >= 5) {
      assert.equal(parsed.topics[0]!.numPartitions, 4);
      assert.deepEqual(parsed.topics[0]!.configs!.map((c) => [c.name, c.value]), [['retention.ms', '604800000']]);
    }
    if (v >= 7) assert.equal(parsed.topics[0]!.topicId, '01234567-89ab-cdef-0123-456789abcdef');
  }
});
