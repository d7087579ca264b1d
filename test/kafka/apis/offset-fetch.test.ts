// OffsetFetch codec: every version round-trips (v8 batched groups, v0–v7 as one-element lists), and matches the
// bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  OffsetFetchApi,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponseGroup,
} from '../../../src/kafka/apis/offset-fetch.ts';
import { KafkaErrorCode } from '../../../src/kafka/errors.ts';
import { Writer } from '../../../src/kafka/writer.ts';
import {
  assertPrefixesRefused,
  decodeRequestBytes,
  decodeResponseBytes,
  encodeRequestBytes,
  encodeResponseBytes,
  kafkajsDecodeResponse,
  kafkajsRequestBytes,
  platformaticParseResponse,
  platformaticRequestBytes,
  versionsOf,
  withUnknownTaggedField,
} from './codec-test-kit.ts';

const ordersTopics = [
  { name: 'orders.processed', partitionIndexes: [0, 3] },
  { name: 'orders.dlq', partitionIndexes: [1] },
];

function requestFor(version: number): OffsetFetchRequest {
  const requireStable = version >= 7;
  if (version >= 8) {
    return {
      groups: [
        { groupId: 'orders-sink', topics: ordersTopics },
        { groupId: 'audit-sink', topics: null },
      ],
      requireStable,
    };
  }
  return { groups: [{ groupId: 'orders-sink', topics: ordersTopics }], requireStable };
}

// Offsets above 2^32 catch an int64 written as int32; -1 with null metadata is "nothing committed".
const ordersGroup: OffsetFetchResponseGroup = {
  groupId: 'orders-sink',
  topics: [
    {
      name: 'orders.processed',
      partitions: [
        { partitionIndex: 0, committedOffset: 2 ** 40 + 7, committedLeaderEpoch: 5, metadata: 'file-0017', errorCode: KafkaErrorCode.NONE },
        { partitionIndex: 3, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, errorCode: KafkaErrorCode.NONE },
      ],
    },
    {
      name: 'orders.dlq',
      partitions: [{ partitionIndex: 1, committedOffset: 42, committedLeaderEpoch: 0, metadata: '', errorCode: KafkaErrorCode.UNSTABLE_OFFSET_COMMIT }],
    },
  ],
  errorCode: KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
};

/** The response a version can carry: v0–v7 lose the group id, v0–v1 the group error, v0–v4 leader epochs. */
function responseFor(version: number): OffsetFetchResponse {
  const throttleTimeMs = version >= 3 ? 13 : 0;
  if (version >= 8) {
    return {
      throttleTimeMs,
      groups: [ordersGroup, { groupId: 'audit-sink', topics: [], errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED }],
    };
  }
  return {
    throttleTimeMs,
    groups: [
      {
        groupId: '',
        errorCode: version >= 2 ? ordersGroup.errorCode : 0,
        topics: ordersGroup.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ ...p, committedLeaderEpoch: version >= 5 ? p.committedLeaderEpoch : -1 })),
        })),
      },
    ],
  };
}

void test('advertises v0–v8, flexible from v6', () => {
  assert.deepEqual(
    [OffsetFetchApi.key, OffsetFetchApi.minVersion, OffsetFetchApi.maxVersion, OffsetFetchApi.minImplementedVersion, OffsetFetchApi.flexibleFrom],
    [9, 0, 8, 0, 6],
  );
});

for (const version of versionsOf(OffsetFetchApi)) {
  void test(`v${version}: request and response round-trip`, () => {
    const req = requestFor(version);
    const reqBytes = encodeRequestBytes(OffsetFetchApi, version, req);
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, reqBytes), req);
    const res = responseFor(version);
    const resBytes = encodeResponseBytes(OffsetFetchApi, version, res);
    assert.deepEqual(decodeResponseBytes(OffsetFetchApi, version, resBytes), res);
    assertPrefixesRefused((r) => OffsetFetchApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => OffsetFetchApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const req = requestFor(version);
    const theirs = platformaticRequestBytes('offsetFetch', version, req.groups, req.requireStable);
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, theirs), req);
    assert.deepEqual(encodeRequestBytes(OffsetFetchApi, version, req), theirs);

    const res = responseFor(version);
    const parsed = platformaticParseResponse('offsetFetch', 9, version, encodeResponseBytes(OffsetFetchApi, version, res));
    const withBigOffsets = (g: OffsetFetchResponseGroup) =>
      g.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, committedOffset: BigInt(p.committedOffset) })) }));
    if (version >= 8) {
      assert.deepEqual(parsed, { throttleTimeMs: res.throttleTimeMs, groups: res.groups.map((g) => ({ ...g, topics: withBigOffsets(g) })) });
    } else {
      const [g] = res.groups;
      assert.ok(g);
      assert.deepEqual(parsed, { throttleTimeMs: res.throttleTimeMs, topics: withBigOffsets(g), errorCode: g.errorCode, groups: [] });
    }
  });
}

for (const version of [2, 3, 4, 5, 6, 7]) {
  void test(`v${version}: topics null ("every committed offset of the group") survives, as platformatic sends it`, () => {
    const req: OffsetFetchRequest = { groups: [{ groupId: 'orders-sink', topics: null }], requireStable: false };
    const theirs = platformaticRequestBytes('offsetFetch', version, req.groups, false);
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, theirs), req);
    assert.deepEqual(encodeRequestBytes(OffsetFetchApi, version, req), theirs);
  });
}

void test('v0–v1 cannot ask for all topics, and v0–v7 carry one group; encoding otherwise is a programmer error', () => {
  const all: OffsetFetchRequest = { groups: [{ groupId: 'orders-sink', topics: null }], requireStable: false };
  assert.throws(() => OffsetFetchApi.encodeRequest(new Writer(), 1, all), /cannot ask for all topics/);
  assert.throws(() => OffsetFetchApi.encodeRequest(new Writer(), 7, requestFor(8)), /exactly one group/);
  assert.throws(() => OffsetFetchApi.encodeResponse(new Writer(), 7, responseFor(8)), /exactly one group/);
});

for (const version of [1, 2, 3, 4]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const req = requestFor(version);
    const theirs = await kafkajsRequestBytes(
      'offsetFetch',
      version,
      {
        groupId: 'orders-sink',
        topics: ordersTopics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes.map((partition) => ({ partition })) })),
      },
      9,
    );
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, theirs), req);

    const res = responseFor(version);
    const decoded = (await kafkajsDecodeResponse('offsetFetch', version, encodeResponseBytes(OffsetFetchApi, version, res))) as Record<string, unknown>;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 3) assert.equal(clientSideThrottleTime ?? throttleTime, res.throttleTimeMs);
    const [g] = res.groups;
    assert.ok(g);
    const responses = g.topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        offset: String(p.committedOffset),
        metadata: p.metadata,
        errorCode: p.errorCode,
      })),
    }));
    assert.deepEqual(rest, version >= 2 ? { responses, errorCode: g.errorCode } : { responses });
  });
}

void test('v3–v4: KafkaJS sends an empty topic list as null, which decodes as "all topics"', async () => {
  for (const version of [3, 4]) {
    const theirs = await kafkajsRequestBytes('offsetFetch', version, { groupId: 'orders-sink', topics: [] }, 9);
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, theirs), { groups: [{ groupId: 'orders-sink', topics: null }], requireStable: false });
  }
});

void test('v6–v8: an unknown tagged field from a newer client is skipped', () => {
  for (const version of [6, 7, 8]) {
    const req = requestFor(version);
    assert.deepEqual(decodeRequestBytes(OffsetFetchApi, version, withUnknownTaggedField(encodeRequestBytes(OffsetFetchApi, version, req))), req);
    const res = responseFor(version);
    assert.deepEqual(decodeResponseBytes(OffsetFetchApi, version, withUnknownTaggedField(encodeResponseBytes(OffsetFetchApi, version, res))), res);
  }
});
