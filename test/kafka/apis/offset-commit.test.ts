// OffsetCommit codec: every version round-trips (v1 commit timestamps, v2–v4 retention, v6+ leader epochs), and
// matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  OffsetCommitApi,
  type OffsetCommitRequest,
  type OffsetCommitRequestTopic,
  type OffsetCommitResponse,
} from '../../../src/kafka/apis/offset-commit.ts';
import { KafkaErrorCode } from '../../../src/kafka/errors.ts';
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

// Offsets above 2^32 catch an int64 written as int32; null metadata must survive as null, not ''.
const request: OffsetCommitRequest = {
  groupId: 'orders-sink',
  generationIdOrMemberEpoch: 12,
  memberId: 'consumer-1-4f0e',
  groupInstanceId: 'sink-pod-0',
  retentionTimeMs: 86_400_000,
  topics: [
    {
      name: 'orders.processed',
      partitions: [
        { partitionIndex: 0, committedOffset: 1234, committedLeaderEpoch: 5, commitTimestamp: 1_700_000_000_000, committedMetadata: 'file-0017' },
        { partitionIndex: 3, committedOffset: 2 ** 40 + 7, committedLeaderEpoch: 5, commitTimestamp: 1_700_000_000_001, committedMetadata: null },
      ],
    },
    { name: 'orders.dlq', partitions: [{ partitionIndex: 1, committedOffset: 0, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' }] },
  ],
};

function requestAt(version: number, req = request): OffsetCommitRequest {
  return {
    groupId: req.groupId,
    generationIdOrMemberEpoch: version >= 1 ? req.generationIdOrMemberEpoch : -1,
    memberId: version >= 1 ? req.memberId : '',
    groupInstanceId: version >= 7 ? req.groupInstanceId : null,
    retentionTimeMs: version >= 2 && version <= 4 ? req.retentionTimeMs : -1,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        ...p,
        committedLeaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
        commitTimestamp: version === 1 ? p.commitTimestamp : -1,
      })),
    })),
  };
}

const response: OffsetCommitResponse = {
  throttleTimeMs: 11,
  topics: [
    {
      name: 'orders.processed',
      partitions: [
        { partitionIndex: 0, errorCode: KafkaErrorCode.NONE },
        { partitionIndex: 3, errorCode: KafkaErrorCode.OFFSET_METADATA_TOO_LARGE },
      ],
    },
    { name: 'orders.dlq', partitions: [{ partitionIndex: 1, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
  ],
};

function responseAt(version: number): OffsetCommitResponse {
  return { ...response, throttleTimeMs: version >= 3 ? response.throttleTimeMs : 0 };
}

void test('advertises v0–v8, flexible from v8', () => {
  assert.deepEqual(
    [OffsetCommitApi.key, OffsetCommitApi.minVersion, OffsetCommitApi.maxVersion, OffsetCommitApi.minImplementedVersion, OffsetCommitApi.flexibleFrom],
    [8, 0, 8, 0, 8],
  );
});

for (const version of versionsOf(OffsetCommitApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(OffsetCommitApi, version, request);
    assert.deepEqual(decodeRequestBytes(OffsetCommitApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(OffsetCommitApi, version, response);
    assert.deepEqual(decodeResponseBytes(OffsetCommitApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => OffsetCommitApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => OffsetCommitApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        committedOffset: BigInt(p.committedOffset),
        committedLeaderEpoch: p.committedLeaderEpoch,
        committedMetadata: p.committedMetadata,
      })),
    }));
    const theirs = platformaticRequestBytes(
      'offsetCommit',
      version,
      request.groupId,
      request.generationIdOrMemberEpoch,
      request.memberId,
      request.groupInstanceId,
      topics,
    );
    // platformatic always sends the "broker default" -1 for v1's commit timestamp and v2–v4's retention.
    const expected = requestAt(version, { ...request, retentionTimeMs: -1, topics: withCommitTimestamp(request.topics, -1) });
    assert.deepEqual(decodeRequestBytes(OffsetCommitApi, version, theirs), expected);
    assert.deepEqual(encodeRequestBytes(OffsetCommitApi, version, expected), theirs);

    // offset-commit-v1 and -v2 parse with v0's parser (their modules import it rather than export their own).
    const parserVersion = version <= 2 ? 0 : version;
    const parsed = platformaticParseResponse('offsetCommit', 8, version, encodeResponseBytes(OffsetCommitApi, version, response), parserVersion);
    assert.deepEqual(parsed, responseAt(version));
  });
}

function withCommitTimestamp(topics: OffsetCommitRequestTopic[], commitTimestamp: number): OffsetCommitRequestTopic[] {
  return topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, commitTimestamp })) }));
}

for (const version of [0, 1, 2, 3, 4, 5]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes(
      'offsetCommit',
      version,
      {
        groupId: request.groupId,
        groupGenerationId: request.generationIdOrMemberEpoch,
        memberId: request.memberId,
        retentionTime: request.retentionTimeMs,
        topics: request.topics.map((t) => ({
          topic: t.name,
          partitions: t.partitions.map((p) => ({
            partition: p.partitionIndex,
            offset: String(p.committedOffset),
            timestamp: p.commitTimestamp,
            metadata: p.committedMetadata,
          })),
        })),
      },
      8,
    );
    assert.deepEqual(decodeRequestBytes(OffsetCommitApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('offsetCommit', version, encodeResponseBytes(OffsetCommitApi, version, response))) as Record<
      string,
      unknown
    >;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 3) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, {
      responses: response.topics.map((t) => ({
        topic: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, errorCode: p.errorCode })),
      })),
    });
  });
}

void test('v8: an unknown tagged field from a newer client is skipped', () => {
  assert.deepEqual(decodeRequestBytes(OffsetCommitApi, 8, withUnknownTaggedField(encodeRequestBytes(OffsetCommitApi, 8, request))), requestAt(8));
  assert.deepEqual(decodeResponseBytes(OffsetCommitApi, 8, withUnknownTaggedField(encodeResponseBytes(OffsetCommitApi, 8, response))), response);
});
