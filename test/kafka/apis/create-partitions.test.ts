// CreatePartitions codec: every version round-trips, and KafkaJS and @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreatePartitionsApi as api, type CreatePartitionsRequest, type CreatePartitionsResponse } from '../../../src/kafka/apis/create-partitions.ts';
import { assertRoundTrips, decodeRequestBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const request: CreatePartitionsRequest = {
  topics: [
    { name: 'orders.raw', count: 8, assignments: null },
    { name: 'orders.dlq', count: 3, assignments: [{ brokerIds: [1] }, { brokerIds: [1, 2] }] },
  ],
  timeoutMs: 10_000,
  validateOnly: false,
};

const response: CreatePartitionsResponse = {
  throttleTimeMs: 0,
  results: [
    { name: 'orders.raw', errorCode: 0, errorMessage: null },
    { name: 'orders.dlq', errorCode: 37, errorMessage: 'Topic already has 4 partitions.' },
  ],
};

void test('advertises CreatePartitions v0–v3, flexible from v2', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [37, 0, 3, 0, 2]);
});

void test('every version round-trips', () => {
  assertRoundTrips(api, { request, response }, { request: () => request, response: () => response });
});

void test('KafkaJS v0–v1 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 1; v++) {
    const bytes = await kafkajsRequestBytes('createPartitions', v, {
      topicPartitions: [{ topic: 'orders.raw', count: 8 }, { topic: 'orders.dlq', count: 3, assignments: [[1], [1, 2]] }],
      validateOnly: false,
      timeout: 10_000,
    }, api.key);
    // KafkaJS writes "no assignments" as a null list, which lets the broker place the partitions
    assert.deepStrictEqual(decodeRequestBytes(api, v, bytes), request, `v${v}`);
  }
});

void test('KafkaJS v0–v1 decodes our responses', async () => {
  for (let v = 0; v <= 1; v++) {
    const parsed = (await kafkajsDecodeResponse('createPartitions', v, encodeResponseBytes(api, v, response))) as { topicErrors: { topic: string; errorCode: number; errorMessage: string | null }[] };
    // KafkaJS sorts the results by topic name
    assert.deepEqual(parsed.topicErrors.map((t) => [t.topic, t.errorCode, t.errorMessage]), [
      ['orders.dlq', 37, 'Topic already has 4 partitions.'],
      ['orders.raw', 0, null],
    ], `v${v}`);
  }
});

void test('@platformatic/kafka v0–v3 requests decode to what it meant', () => {
  for (let v = 0; v <= 3; v++) {
    assert.deepStrictEqual(decodeRequestBytes(api, v, platformaticRequestBytes('createPartitions', v, request.topics, 10_000, false)), request, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v3 parses our responses', () => {
  for (let v = 0; v <= 3; v++) {
    const parsed = platformaticParseResponse('createPartitions', api.key, v, encodeResponseBytes(api, v, response)) as { results: { name: string; errorCode: number; errorMessage: string | null }[] };
    assert.deepEqual(parsed.results.map((t) => [t.name, t.errorCode, t.errorMessage]), [
      ['orders.raw', 0, null],
      ['orders.dlq', 37, 'Topic already has 4 partitions.'],
    ], `v${v}`);
  }
});
