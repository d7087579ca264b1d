// DeleteTopics codec: every version round-trips (names before v6, names or ids from v6), and KafkaJS and
// @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeleteTopicsApi as api, type DeleteTopicsRequest, type DeleteTopicsResponse } from '../../../src/kafka/apis/delete-topics.ts';
import { assertRoundTrips, decodeRequestBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const topicId = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

const request: DeleteTopicsRequest = {
  topics: [{ name: 'orders.raw', topicId: Buffer.alloc(16) }, { name: null, topicId }],
  topicNames: ['orders.raw', 'orders.dlq'],
  timeoutMs: 15_000,
};

function requestAt(v: number): DeleteTopicsRequest {
  return { topics: v >= 6 ? request.topics : [], topicNames: v >= 6 ? [] : request.topicNames, timeoutMs: request.timeoutMs };
}

const response: DeleteTopicsResponse = {
  throttleTimeMs: 2,
  responses: [
    { name: 'orders.raw', topicId, errorCode: 0, errorMessage: null },
    { name: 'orders.dlq', topicId: Buffer.alloc(16), errorCode: 3, errorMessage: 'This server does not host this topic-partition.' },
  ],
};

function responseAt(v: number): DeleteTopicsResponse {
  return {
    throttleTimeMs: v >= 1 ? response.throttleTimeMs : 0,
    responses: response.responses.map((t) => ({
      ...t,
      topicId: v >= 6 ? t.topicId : Buffer.alloc(16),
      errorMessage: v >= 5 ? t.errorMessage : null,
    })),
  };
}

void test('advertises DeleteTopics v0–v6, flexible from v4', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [20, 0, 6, 0, 4]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('KafkaJS v0–v1 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 1; v++) {
    const bytes = await kafkajsRequestBytes('deleteTopics', v, { topics: ['orders.raw', 'orders.dlq'], timeout: 5000 }, api.key);
    assert.deepStrictEqual(decodeRequestBytes(api, v, bytes), { topics: [], topicNames: ['orders.raw', 'orders.dlq'], timeoutMs: 5000 }, `v${v}`);
  }
});

void test('KafkaJS v0–v1 decodes our responses', async () => {
  for (let v = 0; v <= 1; v++) {
    const parsed = (await kafkajsDecodeResponse('deleteTopics', v, encodeResponseBytes(api, v, response))) as { topicErrors: { topic: string; errorCode: number }[] };
    // KafkaJS sorts the results by topic name
    assert.deepEqual(parsed.topicErrors.map((t) => [t.topic, t.errorCode]), [['orders.dlq', 3], ['orders.raw', 0]], `v${v}`);
  }
});

void test('@platformatic/kafka v0–v6 requests decode to what it meant', () => {
  for (let v = 0; v <= 6; v++) {
    const topics = [{ name: 'orders.raw', topicId: '00112233-4455-6677-8899-aabbccddeeff' }];
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('deleteTopics', v, topics, 5000));
    const expected = v >= 6 ? { topics: [{ name: 'orders.raw', topicId }], topicNames: [], timeoutMs: 5000 } : { topics: [], topicNames: ['orders.raw'], timeoutMs: 5000 };
    assert.deepStrictEqual(req, expected, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v6 parses our responses', () => {
  for (let v = 0; v <= 6; v++) {
    const parsed = platformaticParseResponse('deleteTopics', api.key, v, encodeResponseBytes(api, v, response)) as {
      responses: { name: string | null; topicId?: string; errorCode: number; errorMessage?: string | null }[];
    };
    assert.deepEqual(parsed.responses.map((t) => [t.name, t.errorCode]), [['orders.raw', 0], ['orders.dlq', 3]], `v${v}`);
    if (v >= 5) assert.equal(parsed.responses[1]!.errorMessage, 'This server does not host this topic-partition.');
    if (v >= 6) assert.equal(parsed.responses[0]!.topicId, '00112233-4455-6677-8899-aabbccddeeff');
  }
});
