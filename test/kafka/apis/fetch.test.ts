// Fetch codec: every version round-trips, v12 tagged fields are read and written, record batches pass through
// untouched, and KafkaJS and @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as platformatic from '@platformatic/kafka';
import { FetchApi as api, type FetchRequest, type FetchResponse } from '../../../src/kafka/apis/fetch.ts';
import {
  assertRoundTrips,
  decodeRequestBytes,
  decodeResponseBytes,
  kafkajsRequestBytes,
  kafkajsDecodeResponse,
  platformaticRequestBytes,
  platformaticParseResponse,
  encodeRequestBytes,
  encodeResponseBytes,
  withUnknownTaggedField,
} from './codec-test-kit.ts';

/** A real record batch v2, built by a client no one here wrote. */
function batchOf(...values: string[]): Buffer {
  const messages = values.map((v, i) => ({ topic: 't', value: Buffer.from(v), timestamp: 1_700_000_000_000n + BigInt(i) }));
  return Buffer.concat(platformatic.createRecordsBatch(messages).buffers);
}

const request: FetchRequest = {
  clusterId: 'oxbow-cluster',
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 52_428_800,
  isolationLevel: 1,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [
    {
      topic: 'orders.raw',
      partitions: [
        { partition: 0, currentLeaderEpoch: 0, fetchOffset: 42, lastFetchedEpoch: 0, logStartOffset: 3, partitionMaxBytes: 1_048_576 },
        { partition: 1, currentLeaderEpoch: 2, fetchOffset: 2 ** 33, lastFetchedEpoch: 1, logStartOffset: -1, partitionMaxBytes: 65_536 },
      ],
    },
  ],
  forgottenTopicsData: [{ topic: 'old.raw', partitions: [4, 5] }],
  rackId: 'rack-a',
};

function requestAt(v: number): FetchRequest {
  return {
    ...request,
    clusterId: v >= 12 ? request.clusterId : null,
    maxBytes: v >= 3 ? request.maxBytes : 0x7fffffff,
    isolationLevel: v >= 4 ? request.isolationLevel : 0,
    topics: request.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({
        ...p,
        currentLeaderEpoch: v >= 9 ? p.currentLeaderEpoch : -1,
        lastFetchedEpoch: v >= 12 ? p.lastFetchedEpoch : -1,
        logStartOffset: v >= 5 ? p.logStartOffset : -1,
      })),
    })),
    forgottenTopicsData: v >= 7 ? request.forgottenTopicsData : [],
    rackId: v >= 11 ? request.rackId : '',
  };
}

const batch = batchOf('first', 'second');

const response: FetchResponse = {
  throttleTimeMs: 9,
  errorCode: 0,
  sessionId: 0,
  responses: [
    {
      topic: 'orders.raw',
      partitions: [
        {
          partitionIndex: 0,
          errorCode: 0,
          highWatermark: 44,
          lastStableOffset: 44,
          logStartOffset: 3,
          divergingEpoch: { epoch: 1, endOffset: 40 },
          currentLeader: { leaderId: 1, leaderEpoch: 2 },
          snapshotId: { endOffset: 30, epoch: 1 },
          abortedTransactions: [{ producerId: 7, firstOffset: 10 }],
          preferredReadReplica: 1,
          records: batch,
        },
        {
          partitionIndex: 1,
          errorCode: 1,
          highWatermark: 0,
          lastStableOffset: 0,
          logStartOffset: 0,
          divergingEpoch: null,
          currentLeader: null,
          snapshotId: null,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: null,
        },
      ],
    },
  ],
};

function responseAt(v: number): FetchResponse {
  return {
    throttleTimeMs: v >= 1 ? response.throttleTimeMs : 0,
    errorCode: v >= 7 ? response.errorCode : 0,
    sessionId: v >= 7 ? response.sessionId : 0,
    responses: response.responses.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({
        ...p,
        lastStableOffset: v >= 4 ? p.lastStableOffset : -1,
        logStartOffset: v >= 5 ? p.logStartOffset : -1,
        divergingEpoch: v >= 12 ? p.divergingEpoch : null,
        currentLeader: v >= 12 ? p.currentLeader : null,
        snapshotId: v >= 12 ? p.snapshotId : null,
        abortedTransactions: v >= 4 ? p.abortedTransactions : null,
        preferredReadReplica: v >= 11 ? p.preferredReadReplica : -1,
      })),
    })),
  };
}

void test('advertises Fetch v0–v12, implements v4+, flexible from v12', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [1, 0, 12, 4, 12]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('v12 tagged partition fields are each optional: only the ones set are written', () => {
  const p = response.responses[0]!.partitions[0]!;
  const onlyLeader: FetchResponse = {
    ...response,
    responses: [{ topic: 't', partitions: [{ ...p, divergingEpoch: null, snapshotId: null, records: null }] }],
  };
  const bytes = encodeResponseBytes(api, 12, onlyLeader);
  // ... records null (00), then a tag buffer with one field: tag 1, 8 bytes, leader 1, epoch 2; then topic and body tags
  assert.ok(bytes.toString('hex').endsWith('00' + '01' + '01' + '08' + '00000001' + '00000002' + '00' + '00'));
  assert.deepStrictEqual(decodeResponseBytes(api, 12, bytes), onlyLeader);
});

void test('a v12 request without a cluster id writes an empty tag buffer, and unknown tags beside it are skipped', () => {
  const bytes = encodeRequestBytes(api, 12, { ...request, clusterId: null });
  assert.equal(bytes[bytes.length - 1], 0);
  assert.deepStrictEqual(decodeRequestBytes(api, 12, withUnknownTaggedField(bytes)), { ...request, clusterId: null });
  const withId = encodeRequestBytes(api, 12, request);
  // tag buffer: 1 field, tag 0, 14 bytes: compact string "oxbow-cluster"; swap in 2 fields with an unknown tag 9 after it
  const tail = '01' + '00' + '0e' + '0e' + Buffer.from('oxbow-cluster').toString('hex');
  assert.ok(withId.toString('hex').endsWith(tail));
  const twoTags = Buffer.concat([withId.subarray(0, withId.length - tail.length / 2), Buffer.from('02' + tail.slice(2) + '09' + '01' + 'ff', 'hex')]);
  assert.equal(decodeRequestBytes(api, 12, twoTags).clusterId, 'oxbow-cluster');
});

void test('records are written byte for byte', () => {
  for (const v of [4, 11, 12]) {
    const bytes = encodeResponseBytes(api, v, response);
    assert.ok(bytes.includes(batch), `v${v}`);
    assert.deepEqual(decodeResponseBytes(api, v, bytes).responses[0]!.partitions[0]!.records, batch);
  }
});

void test('KafkaJS v4–v11 fetch requests decode to what KafkaJS meant', async () => {
  for (let v = 4; v <= 11; v++) {
    const bytes = await kafkajsRequestBytes('fetch', v, {
      replicaId: -1,
      maxWaitTime: 5000,
      minBytes: 1,
      maxBytes: 10_485_760,
      isolationLevel: 1,
      rackId: 'rack-b',
      topics: [{ topic: 'orders.raw', partitions: [{ partition: 3, fetchOffset: '1234', maxBytes: 1_048_576, currentLeaderEpoch: 0 }] }],
    }, api.key);
    const req = decodeRequestBytes(api, v, bytes);
    assert.deepEqual([req.replicaId, req.maxWaitMs, req.minBytes, req.maxBytes, req.isolationLevel], [-1, 5000, 1, 10_485_760, 1], `v${v}`);
    if (v >= 7) assert.deepEqual([req.sessionId, req.sessionEpoch, req.forgottenTopicsData], [0, -1, []]);
    assert.equal(req.rackId, v >= 11 ? 'rack-b' : '');
    assert.equal(req.topics[0]!.topic, 'orders.raw');
    const p = req.topics[0]!.partitions[0]!;
    assert.deepEqual([p.partition, p.fetchOffset, p.partitionMaxBytes, p.currentLeaderEpoch], [3, 1234, 1_048_576, v >= 9 ? 0 : -1], `v${v}`);
  }
});

type KafkaJsFetch = {
  errorCode?: number;
  responses: {
    topicName: string;
    partitions: { partition: number; errorCode: number; highWatermark: string; lastStableOffset?: string; abortedTransactions?: { producerId: string }[]; preferredReadReplica?: number; messages: { offset: string; value: Buffer }[] }[];
  }[];
};

void test('KafkaJS v4–v11 decodes our responses, records included', async () => {
  for (let v = 4; v <= 11; v++) {
    const parsed = (await kafkajsDecodeResponse('fetch', v, encodeResponseBytes(api, v, response))) as KafkaJsFetch;
    const t = parsed.responses[0]!;
    assert.equal(t.topicName, 'orders.raw');
    const [p0, p1] = t.partitions;
    assert.deepEqual([p0!.partition, p0!.errorCode, p0!.highWatermark, p0!.lastStableOffset], [0, 0, '44', '44'], `v${v}`);
    assert.deepEqual(p0!.abortedTransactions!.map((a) => a.producerId), ['7']);
    if (v >= 11) assert.equal(p0!.preferredReadReplica, 1);
    assert.deepEqual(p0!.messages.map((m) => m.value.toString()), ['first', 'second'], `v${v}`);
    assert.deepEqual([p1!.partition, p1!.errorCode, p1!.messages], [1, 1, []]);
  }
});

void test('@platformatic/kafka v4–v12 fetch requests decode to what it meant', () => {
  for (let v = 4; v <= 12; v++) {
    const topics = [{ topicId: 'orders.raw', partitions: [{ partition: 2, currentLeaderEpoch: 0, fetchOffset: 99n, lastFetchedEpoch: 0, partitionMaxBytes: 1_048_576 }] }];
    const forgotten = [{ topic: 'old.raw', partitions: [7] }];
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('fetch', v, 5000, 1, 10_485_760, 1, 0, 0, topics, forgotten, 'rack-c'));
    assert.deepEqual([req.maxWaitMs, req.minBytes, req.maxBytes, req.isolationLevel], [5000, 1, 10_485_760, 1], `v${v}`);
    if (v >= 7) assert.deepEqual([req.sessionId, req.sessionEpoch, req.forgottenTopicsData], [0, 0, forgotten]);
    assert.equal(req.rackId, v >= 11 ? 'rack-c' : '');
    const p = req.topics[0]!.partitions[0]!;
    assert.equal(req.topics[0]!.topic, 'orders.raw');
    assert.deepEqual([p.partition, p.fetchOffset, p.partitionMaxBytes, p.currentLeaderEpoch, p.lastFetchedEpoch], [2, 99, 1_048_576, v >= 9 ? 0 : -1, v >= 12 ? 0 : -1], `v${v}`);
  }
});

type PlatformaticFetch = {
  throttleTimeMs: number;
  responses: {
    topicId?: string;
    topic?: string;
    partitions: {
      partitionIndex: number;
      errorCode: number;
      highWatermark: bigint;
      lastStableOffset: bigint;
      divergingEpoch?: { epoch: number; endOffset: bigint };
      currentLeader?: { leaderId: number; leaderEpoch: number };
      snapshotId?: { endOffset: bigint; epoch: number };
      abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
      records: { records: { value: Buffer }[] }[] | null;
    }[];
  }[];
};

void test('@platformatic/kafka v4–v12 parses our responses, tagged fields and records included', () => {
  for (let v = 4; v <= 12; v++) {
    const parsed = platformaticParseResponse('fetch', api.key, v, encodeResponseBytes(api, v, response)) as PlatformaticFetch;
    assert.equal(parsed.throttleTimeMs, 9, `v${v}`);
    const t = parsed.responses[0]!;
    assert.equal(t.topicId ?? t.topic, 'orders.raw');
    const [p0, p1] = t.partitions;
    assert.deepEqual([p0!.partitionIndex, p0!.errorCode, p0!.highWatermark, p0!.lastStableOffset], [0, 0, 44n, 44n], `v${v}`);
    assert.deepEqual(p0!.abortedTransactions, [{ producerId: 7n, firstOffset: 10n }]);
    assert.deepEqual(p0!.records!.flatMap((b) => b.records.map((r) => r.value.toString())), ['first', 'second'], `v${v}`);
    if (v >= 12) {
      assert.deepEqual(p0!.divergingEpoch, { epoch: 1, endOffset: 40n });
      assert.deepEqual(p0!.currentLeader, { leaderId: 1, leaderEpoch: 2 });
      assert.deepEqual(p0!.snapshotId, { endOffset: 30n, epoch: 1 });
    }
    assert.deepEqual([p1!.partitionIndex, p1!.errorCode, p1!.abortedTransactions, p1!.records], [1, 1, null, null], `v${v}`);
  }
});
