// ListOffsets codec: every version round-trips (v0's offset arrays included), and KafkaJS and @platformatic/kafka
// bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListOffsetsApi as api, type ListOffsetsRequest, type ListOffsetsResponse } from '../../../src/kafka/apis/list-offsets.ts';
import { assertRoundTrips, decodeRequestBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const request: ListOffsetsRequest = {
  replicaId: -1,
  isolationLevel: 1,
  topics: [
    {
      name: 'orders.raw',
      partitions: [
        { partitionIndex: 0, currentLeaderEpoch: 0, timestamp: -2, maxNumOffsets: 5 },
        { partitionIndex: 1, currentLeaderEpoch: 3, timestamp: 1_700_000_000_000, maxNumOffsets: 5 },
      ],
    },
  ],
};

function requestAt(v: number): ListOffsetsRequest {
  return {
    ...request,
    isolationLevel: v >= 2 ? request.isolationLevel : 0,
    topics: request.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({ ...p, currentLeaderEpoch: v >= 4 ? p.currentLeaderEpoch : -1, maxNumOffsets: v === 0 ? p.maxNumOffsets : 1 })),
    })),
  };
}

const response: ListOffsetsResponse = {
  throttleTimeMs: 3,
  topics: [
    {
      name: 'orders.raw',
      partitions: [
        { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [120, 0], timestamp: -1, offset: 120, leaderEpoch: 0 },
        { partitionIndex: 1, errorCode: 3, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 },
      ],
    },
  ],
};

function responseAt(v: number): ListOffsetsResponse {
  return {
    throttleTimeMs: v >= 2 ? response.throttleTimeMs : 0,
    topics: response.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({
        ...p,
        oldStyleOffsets: v === 0 ? p.oldStyleOffsets : [],
        timestamp: v >= 1 ? p.timestamp : -1,
        offset: v >= 1 ? p.offset : -1,
        leaderEpoch: v >= 4 ? p.leaderEpoch : -1,
      })),
    })),
  };
}

void test('advertises ListOffsets v0–v5, flexible only from v6', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [2, 0, 5, 0, 6]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('KafkaJS v0–v3 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 3; v++) {
    const bytes = await kafkajsRequestBytes('listOffsets', v, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders.raw', partitions: [{ partition: 4, timestamp: -1 }] }],
    }, api.key);
    const req = decodeRequestBytes(api, v, bytes);
    assert.deepEqual([req.replicaId, req.isolationLevel], [-1, v >= 2 ? 1 : 0], `v${v}`);
    assert.deepEqual(req.topics, [{ name: 'orders.raw', partitions: [{ partitionIndex: 4, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }]);
  }
});

void test('KafkaJS v0–v3 decodes our responses', async () => {
  for (let v = 0; v <= 3; v++) {
    const parsed = (await kafkajsDecodeResponse('listOffsets', v, encodeResponseBytes(api, v, response))) as {
      responses: { topic: string; partitions: { partition: number; errorCode: number; offsets?: string[]; offset?: string }[] }[];
    };
    const p0 = parsed.responses[0]!.partitions[0]!;
    assert.equal(parsed.responses[0]!.topic, 'orders.raw');
    assert.deepEqual([p0.partition, p0.errorCode], [0, 0]);
    if (v === 0) assert.deepEqual(p0.offsets, ['120', '0']);
    else assert.equal(p0.offset, '120', `v${v}`);
    assert.equal(parsed.responses[0]!.partitions[1]!.errorCode, 3);
  }
});

void test('@platformatic/kafka v0–v5 requests decode to what it meant', () => {
  for (let v = 0; v <= 5; v++) {
    const topics = [{ name: 'orders.raw', partitions: [{ partitionIndex: 2, currentLeaderEpoch: 0, timestamp: -2n }] }];
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('listOffsets', v, -1, 1, topics));
    assert.deepEqual([req.replicaId, req.isolationLevel], [-1, v >= 2 ? 1 : 0], `v${v}`);
    assert.deepEqual(req.topics[0]!.partitions[0], { partitionIndex: 2, currentLeaderEpoch: v >= 4 ? 0 : -1, timestamp: -2, maxNumOffsets: 1 }, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v5 parses our responses', () => {
  for (let v = 0; v <= 5; v++) {
    const parsed = platformaticParseResponse('listOffsets', api.key, v, encodeResponseBytes(api, v, response)) as {
      topics: { name: string; partitions: { partitionIndex: number; errorCode: number; offset?: bigint; oldStyleOffsets?: bigint[]; leaderEpoch?: number }[] }[];
    };
    const p0 = parsed.topics[0]!.partitions[0]!;
    assert.equal(parsed.topics[0]!.name, 'orders.raw');
    assert.deepEqual([p0.partitionIndex, p0.errorCode], [0, 0], `v${v}`);
    if (v >= 1) assert.equal(p0.offset, 120n, `v${v}`);
    if (v >= 4) assert.equal(p0.leaderEpoch, 0);
    assert.equal(parsed.topics[0]!.partitions[1]!.errorCode, 3);
  }
});
