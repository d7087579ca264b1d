// LeaveGroup codec: every version round-trips (v3+ batched, v0–v2 as one-element lists), and matches the bytes
// of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaveGroupApi, type LeaveGroupRequest, type LeaveGroupResponse } from '../../../src/kafka/apis/leave-group.ts';
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

function requestFor(version: number): LeaveGroupRequest {
  return version >= 3
    ? {
        groupId: 'orders-sink',
        members: [
          { memberId: 'consumer-1-4f0e', groupInstanceId: null },
          { memberId: '', groupInstanceId: 'sink-pod-2' },
        ],
      }
    : { groupId: 'orders-sink', members: [{ memberId: 'consumer-1-4f0e', groupInstanceId: null }] };
}

function responseFor(version: number): LeaveGroupResponse {
  return {
    throttleTimeMs: version >= 1 ? 4 : 0,
    errorCode: KafkaErrorCode.NONE,
    members:
      version >= 3
        ? [
            { memberId: 'consumer-1-4f0e', groupInstanceId: null, errorCode: KafkaErrorCode.NONE },
            { memberId: '', groupInstanceId: 'sink-pod-2', errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID },
          ]
        : [],
  };
}

void test('advertises v0–v4, flexible from v4', () => {
  assert.deepEqual(
    [LeaveGroupApi.key, LeaveGroupApi.minVersion, LeaveGroupApi.maxVersion, LeaveGroupApi.minImplementedVersion, LeaveGroupApi.flexibleFrom],
    [13, 0, 4, 0, 4],
  );
});

for (const version of versionsOf(LeaveGroupApi)) {
  void test(`v${version}: request and response round-trip`, () => {
    const req = requestFor(version);
    const reqBytes = encodeRequestBytes(LeaveGroupApi, version, req);
    assert.deepEqual(decodeRequestBytes(LeaveGroupApi, version, reqBytes), req);
    const res = responseFor(version);
    const resBytes = encodeResponseBytes(LeaveGroupApi, version, res);
    assert.deepEqual(decodeResponseBytes(LeaveGroupApi, version, resBytes), res);
    assertPrefixesRefused((r) => LeaveGroupApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => LeaveGroupApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const req = requestFor(version);
    const theirs = platformaticRequestBytes('leaveGroup', version, req.groupId, req.members);
    assert.deepEqual(decodeRequestBytes(LeaveGroupApi, version, theirs), req);
    assert.deepEqual(encodeRequestBytes(LeaveGroupApi, version, req), theirs);

    const res = responseFor(version);
    const parsed = platformaticParseResponse('leaveGroup', 13, version, encodeResponseBytes(LeaveGroupApi, version, res));
    assert.deepEqual(parsed, res);
  });
}

for (const version of [0, 1, 2, 3]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const req = requestFor(version);
    const args = version >= 3 ? { groupId: req.groupId, members: req.members } : { groupId: req.groupId, memberId: req.members[0]?.memberId };
    const theirs = await kafkajsRequestBytes('leaveGroup', version, args, 13);
    assert.deepEqual(decodeRequestBytes(LeaveGroupApi, version, theirs), req);

    const res = responseFor(version);
    const decoded = (await kafkajsDecodeResponse('leaveGroup', version, encodeResponseBytes(LeaveGroupApi, version, res))) as Record<string, unknown>;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, res.throttleTimeMs);
    assert.deepEqual(rest, version >= 3 ? { errorCode: 0, members: res.members } : { errorCode: 0 });
  });
}

void test('v0–v2 name exactly one member; encoding a batch for them is a programmer error', () => {
  assert.throws(() => LeaveGroupApi.encodeRequest(new Writer(), 2, requestFor(3)), /exactly one member/);
});

void test('v4: an unknown tagged field from a newer client is skipped', () => {
  const req = requestFor(4);
  assert.deepEqual(decodeRequestBytes(LeaveGroupApi, 4, withUnknownTaggedField(encodeRequestBytes(LeaveGroupApi, 4, req))), req);
  const res = responseFor(4);
  assert.deepEqual(decodeResponseBytes(LeaveGroupApi, 4, withUnknownTaggedField(encodeResponseBytes(LeaveGroupApi, 4, res))), res);
});
