// Produce codec: every version round-trips, record batches pass through untouched, and KafkaJS and
// @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as platformatic from '@platformatic/kafka';
import { ProduceApi as api, type ProduceRequest, type ProduceResponse } from '../../../src/kafka/apis/produce.ts';
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

/** A real record batch v2, built by a client no one here wrote. */
function batchOf(...values: string[]): Buffer {
  const messages = values.map((v, i) => ({ topic: 't', key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: 1_700_000_000_000n + BigInt(i) }));
  return Buffer.concat(platformatic.createRecordsBatch(messages).buffers);
}

/** The values inside record batches, read by @platformatic/kafka. */
function valuesIn(records: Buffer | null): string[] {
  assert.ok(records);
  const batches = platformatic.readRecordsBatches(platformatic.Reader.from(records)) as { records: { value: Buffer }[] }[];
  return batches.flatMap((b) => b.records.map((r) => r.value.toString()));
}

const request: ProduceRequest = {
  transactionalId: 'txn-1',
  acks: -1,
  timeoutMs: 30_000,
  topicData: [
    { name: 'orders.raw', partitionData: [{ index: 0, records: batchOf('a', 'b') }, { index: 3, records: null }] },
    { name: 'clicks.raw', partitionData: [{ index: 1, records: batchOf('c') }] },
  ],
};

function requestAt(v: number): ProduceRequest {
  return { ...request, transactionalId: v >= 3 ? request.transactionalId : null };
}

const response: ProduceResponse = {
  responses: [
    {
      name: 'orders.raw',
      partitionResponses: [
        { index: 0, errorCode: 0, baseOffset: 2 ** 40 + 5, logAppendTimeMs: 1_700_000_000_123, logStartOffset: 17 },
        { index: 3, errorCode: 87, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 },
      ],
    },
  ],
  throttleTimeMs: 4,
};

function responseAt(v: number): ProduceResponse {
  return {
    responses: response.responses.map((t) => ({
      ...t,
      partitionResponses: t.partitionResponses.map((p) => ({
        ...p,
        logAppendTimeMs: v >= 2 ? p.logAppendTimeMs : -1,
        logStartOffset: v >= 5 ? p.logStartOffset : -1,
      })),
    })),
    throttleTimeMs: v >= 1 ? response.throttleTimeMs : 0,
  };
}

void test('advertises Produce v0–v7, implements v3+ (record batch v2), flexible only from v9', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [0, 0, 7, 3, 9]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('decoded records are the very bytes sent, not a copy', () => {
  const bytes = encodeRequestBytes(api, 7, request);
  const records = decodeRequestBytes(api, 7, bytes).topicData[0]!.partitionData[0]!.records!;
  assert.deepEqual(valuesIn(records), ['a', 'b']);
  bytes.fill(0);
  assert.ok(records.every((b) => b === 0), 'records is a view into the request frame');
});

void test('KafkaJS v3–v7 produce requests decode, with their record batches intact', async () => {
  for (let v = 3; v <= 7; v++) {
    const bytes = await kafkajsRequestBytes('produce', v, {
      acks: -1,
      timeout: 30_000,
      transactionalId: v === 7 ? 'txn-1' : undefined,
      topicData: [{ topic: 'orders.raw', partitions: [{ partition: 2, messages: [{ key: 'k', value: 'hello' }, { value: 'world' }] }] }],
    }, api.key);
    const req = decodeRequestBytes(api, v, bytes);
    assert.equal(req.transactionalId, v === 7 ? 'txn-1' : null, `v${v}`);
    assert.deepEqual([req.acks, req.timeoutMs], [-1, 30_000]);
    assert.equal(req.topicData[0]!.name, 'orders.raw');
    assert.equal(req.topicData[0]!.partitionData[0]!.index, 2);
    assert.deepEqual(valuesIn(req.topicData[0]!.partitionData[0]!.records), ['hello', 'world'], `v${v}`);
  }
});

void test('KafkaJS v0–v7 decodes our responses', async () => {
  for (let v = 0; v <= 7; v++) {
    const parsed = (await kafkajsDecodeResponse('produce', v, encodeResponseBytes(api, v, response))) as {
      topics: { topicName: string; partitions: { partition: number; errorCode: number; offset?: string; baseOffset?: string; timestamp?: string; logAppendTime?: string; logStartOffset?: string }[] }[];
      throttleTime?: number;
      clientSideThrottleTime?: number;
    };
    const t = parsed.topics[0]!;
    assert.equal(t.topicName, 'orders.raw');
    const p = t.partitions[0]!;
    assert.deepEqual([p.partition, p.errorCode, p.offset ?? p.baseOffset], [0, 0, String(2 ** 40 + 5)], `v${v}`);
    assert.equal(t.partitions[1]!.errorCode, 87);
    // From v6 KafkaJS reads the throttle as already applied by the broker (KIP-219) and reports it apart.
    if (v >= 1) assert.equal(v >= 6 ? parsed.clientSideThrottleTime : parsed.throttleTime, 4, `v${v}`);
    if (v >= 2) assert.equal(p.timestamp ?? p.logAppendTime, '1700000000123');
    if (v >= 5) assert.equal(p.logStartOffset, '17');
  }
});

void test('@platformatic/kafka v3–v7 produce requests decode, with their record batches intact', () => {
  for (let v = 3; v <= 7; v++) {
    const messages = [
      { topic: 'orders.raw', partition: 1, key: Buffer.from('k'), value: Buffer.from('one') },
      { topic: 'orders.raw', partition: 1, value: Buffer.from('two') },
      { topic: 'clicks.raw', partition: 0, value: Buffer.from('three') },
    ];
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('produce', v, 1, 5_000, messages, { transactionalId: 'txn-9' }));
    assert.deepEqual([req.transactionalId, req.acks, req.timeoutMs], ['txn-9', 1, 5_000], `v${v}`);
    assert.deepEqual(req.topicData.map((t) => [t.name, t.partitionData.map((p) => [p.index, valuesIn(p.records)])]), [
      ['orders.raw', [[1, ['one', 'two']]]],
      ['clicks.raw', [[0, ['three']]]],
    ]);
  }
});

void test('@platformatic/kafka v3–v7 parses our responses', () => {
  for (let v = 3; v <= 7; v++) {
    const parsed = platformaticParseResponse('produce', api.key, v, encodeResponseBytes(api, v, response)) as {
      responses: { name: string; partitionResponses: { index: number; errorCode: number; baseOffset: bigint; logAppendTimeMs?: bigint; logStartOffset?: bigint }[] }[];
      throttleTimeMs: number;
    };
    const p = parsed.responses[0]!.partitionResponses[0]!;
    assert.equal(parsed.responses[0]!.name, 'orders.raw');
    assert.deepEqual([p.index, p.errorCode, p.baseOffset, p.logAppendTimeMs], [0, 0, BigInt(2 ** 40 + 5), 1_700_000_000_123n], `v${v}`);
    if (v >= 5) assert.equal(p.logStartOffset, 17n);
    assert.equal(parsed.responses[0]!.partitionResponses[1]!.errorCode, 87);
    assert.equal(parsed.throttleTimeMs, 4);
  }
});
