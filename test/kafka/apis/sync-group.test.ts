// SyncGroup codec: every version round-trips, and matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SyncGroupApi, type SyncGroupRequest, type SyncGroupResponse } from '../../../src/kafka/apis/sync-group.ts';
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

// A consumer assignment (version 0, orders: partitions 0 and 2, no user data); opaque to the codec.
const assignment = Buffer.from('0000' + '00000001' + '0006' + Buffer.from('orders').toString('hex') + '00000002' + '00000000' + '00000002' + 'ffffffff', 'hex');

const request: SyncGroupRequest = {
  groupId: 'orders-sink',
  generationId: 3,
  memberId: 'leader-1',
  groupInstanceId: 'sink-pod-0',
  assignments: [
    { memberId: 'leader-1', assignment },
    { memberId: 'follower-2', assignment: Buffer.alloc(0) },
  ],
};

function requestAt(version: number): SyncGroupRequest {
  return { ...request, groupInstanceId: version >= 3 ? request.groupInstanceId : null };
}

const response: SyncGroupResponse = { throttleTimeMs: 9, errorCode: KafkaErrorCode.NONE, assignment };

function responseAt(version: number): SyncGroupResponse {
  return { ...response, throttleTimeMs: version >= 1 ? response.throttleTimeMs : 0 };
}

void test('advertises v0–v4, flexible from v4', () => {
  assert.deepEqual(
    [SyncGroupApi.key, SyncGroupApi.minVersion, SyncGroupApi.maxVersion, SyncGroupApi.minImplementedVersion, SyncGroupApi.flexibleFrom],
    [14, 0, 4, 0, 4],
  );
});

for (const version of versionsOf(SyncGroupApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(SyncGroupApi, version, request);
    assert.deepEqual(decodeRequestBytes(SyncGroupApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(SyncGroupApi, version, response);
    assert.deepEqual(decodeResponseBytes(SyncGroupApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => SyncGroupApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => SyncGroupApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const theirs = platformaticRequestBytes(
      'syncGroup',
      version,
      request.groupId,
      request.generationId,
      request.memberId,
      request.groupInstanceId,
      null,
      null,
      request.assignments,
    );
    assert.deepEqual(decodeRequestBytes(SyncGroupApi, version, theirs), requestAt(version));
    assert.deepEqual(encodeRequestBytes(SyncGroupApi, version, requestAt(version)), theirs);

    const parsed = platformaticParseResponse('syncGroup', 14, version, encodeResponseBytes(SyncGroupApi, version, response));
    assert.deepEqual(parsed, { ...responseAt(version), protocolType: null, protocolName: null });
  });
}

for (const version of [0, 1, 2, 3]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes(
      'syncGroup',
      version,
      {
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        groupAssignment: request.assignments.map((a) => ({ memberId: a.memberId, memberAssignment: a.assignment })),
      },
      14,
    );
    assert.deepEqual(decodeRequestBytes(SyncGroupApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('syncGroup', version, encodeResponseBytes(SyncGroupApi, version, response))) as Record<string, unknown>;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, { errorCode: 0, memberAssignment: assignment });
  });
}

void test('an error answer reaches the client with an empty assignment', () => {
  const res: SyncGroupResponse = { throttleTimeMs: 0, errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) };
  for (const version of versionsOf(SyncGroupApi)) {
    const parsed = platformaticParseResponse('syncGroup', 14, version, encodeResponseBytes(SyncGroupApi, version, res)) as SyncGroupResponse;
    assert.equal(parsed.errorCode, KafkaErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(parsed.assignment.length, 0);
  }
});

void test('v4: an unknown tagged field from a newer client is skipped', () => {
  assert.deepEqual(decodeRequestBytes(SyncGroupApi, 4, withUnknownTaggedField(encodeRequestBytes(SyncGroupApi, 4, request))), request);
  assert.deepEqual(decodeResponseBytes(SyncGroupApi, 4, withUnknownTaggedField(encodeResponseBytes(SyncGroupApi, 4, response))), response);
});
