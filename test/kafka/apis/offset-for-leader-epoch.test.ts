// OffsetForLeaderEpoch codec: every version round-trips, and @platformatic/kafka's bytes agree with ours
// (KafkaJS does not implement this API).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  OffsetForLeaderEpochApi as api,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from '../../../src/kafka/apis/offset-for-leader-epoch.ts';
import { assertRoundTrips, decodeRequestBytes, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const request: OffsetForLeaderEpochRequest = {
  replicaId: -1,
  topics: [{ topic: 'orders.raw', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 2, currentLeaderEpoch: 4, leaderEpoch: 3 }] }],
};

function requestAt(v: number): OffsetForLeaderEpochRequest {
  return {
    replicaId: v >= 3 ? request.replicaId : -2,
    topics: request.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, currentLeaderEpoch: v >= 2 ? p.currentLeaderEpoch : -1 })) })),
  };
}

const response: OffsetForLeaderEpochResponse = {
  throttleTimeMs: 1,
  topics: [
    {
      topic: 'orders.raw',
      partitions: [
        { errorCode: 0, partition: 0, leaderEpoch: 0, endOffset: 2 ** 35 },
        { errorCode: 74, partition: 2, leaderEpoch: -1, endOffset: -1 },
      ],
    },
  ],
};

function responseAt(v: number): OffsetForLeaderEpochResponse {
  return {
    throttleTimeMs: v >= 2 ? response.throttleTimeMs : 0,
    topics: response.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, leaderEpoch: v >= 1 ? p.leaderEpoch : -1 })) })),
  };
}

void test('advertises OffsetForLeaderEpoch v0–v4, flexible from v4', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [23, 0, 4, 0, 4]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('@platformatic/kafka v0–v4 requests decode to what it meant', () => {
  for (let v = 0; v <= 4; v++) {
    const topics = [{ name: 'orders.raw', partitions: [{ partitionIndex: 1, currentLeaderEpoch: 0, leaderEpoch: 0 }] }];
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('offsetForLeaderEpoch', v, -1, topics));
    assert.deepStrictEqual(req, {
      replicaId: v >= 3 ? -1 : -2,
      topics: [{ topic: 'orders.raw', partitions: [{ partition: 1, currentLeaderEpoch: v >= 2 ? 0 : -1, leaderEpoch: 0 }] }],
    }, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v4 parses our responses', () => {
  for (let v = 0; v <= 4; v++) {
    const parsed = platformaticParseResponse('offsetForLeaderEpoch', api.key, v, encodeResponseBytes(api, v, response)) as {
      topics: { topic: string; partitions: { errorCode: number; partition: number; leaderEpoch?: number; endOffset: bigint }[] }[];
    };
    assert.equal(parsed.topics[0]!.topic, 'orders.raw');
    const [p0, p1] = parsed.topics[0]!.partitions;
    assert.deepEqual([p0!.errorCode, p0!.partition, p0!.endOffset], [0, 0, 2n ** 35n], `v${v}`);
    if (v >= 1) assert.equal(p0!.leaderEpoch, 0);
    assert.deepEqual([p1!.errorCode, p1!.partition], [74, 2]);
  }
});
