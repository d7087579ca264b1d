// Heartbeat codec: every version round-trips, and matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeartbeatApi, type HeartbeatRequest, type HeartbeatResponse } from '../../../src/kafka/apis/heartbeat.ts';
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

const request: HeartbeatRequest = { groupId: 'orders-sink', generationId: 12, memberId: 'consumer-1-4f0e', groupInstanceId: 'sink-pod-1' };

function requestAt(version: number): HeartbeatRequest {
  return { ...request, groupInstanceId: version >= 3 ? request.groupInstanceId : null };
}

// A rebalance answer: the one heartbeat result every client must act on.
const response: HeartbeatResponse = { throttleTimeMs: 3, errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS };

function responseAt(version: number): HeartbeatResponse {
  return { ...response, throttleTimeMs: version >= 1 ? response.throttleTimeMs : 0 };
}

void test('advertises v0–v4, flexible from v4', () => {
  assert.deepEqual(
    [HeartbeatApi.key, HeartbeatApi.minVersion, HeartbeatApi.maxVersion, HeartbeatApi.minImplementedVersion, HeartbeatApi.flexibleFrom],
    [12, 0, 4, 0, 4],
  );
});

for (const version of versionsOf(HeartbeatApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(HeartbeatApi, version, request);
    assert.deepEqual(decodeRequestBytes(HeartbeatApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(HeartbeatApi, version, response);
    assert.deepEqual(decodeResponseBytes(HeartbeatApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => HeartbeatApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => HeartbeatApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const theirs = platformaticRequestBytes('heartbeat', version, request.groupId, request.generationId, request.memberId, request.groupInstanceId);
    assert.deepEqual(decodeRequestBytes(HeartbeatApi, version, theirs), requestAt(version));
    assert.deepEqual(encodeRequestBytes(HeartbeatApi, version, requestAt(version)), theirs);

    const parsed = platformaticParseResponse('heartbeat', 12, version, encodeResponseBytes(HeartbeatApi, version, response));
    assert.deepEqual(parsed, responseAt(version));
  });
}

for (const version of [0, 1, 2, 3]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes(
      'heartbeat',
      version,
      { groupId: request.groupId, groupGenerationId: request.generationId, memberId: request.memberId, groupInstanceId: request.groupInstanceId },
      12,
    );
    assert.deepEqual(decodeRequestBytes(HeartbeatApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('heartbeat', version, encodeResponseBytes(HeartbeatApi, version, response))) as Record<string, unknown>;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, { errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS });
  });
}

void test('v4: an unknown tagged field from a newer client is skipped', () => {
  assert.deepEqual(decodeRequestBytes(HeartbeatApi, 4, withUnknownTaggedField(encodeRequestBytes(HeartbeatApi, 4, request))), request);
  assert.deepEqual(decodeResponseBytes(HeartbeatApi, 4, withUnknownTaggedField(encodeResponseBytes(HeartbeatApi, 4, response))), response);
});
