// FindCoordinator codec: every version round-trips (v4 batched, v0–v3 as one-element lists), and matches the
// bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CoordinatorKeyType,
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '../../../src/kafka/apis/find-coordinator.ts';
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

function requestFor(version: number): FindCoordinatorRequest {
  return version >= 4
    ? { keyType: CoordinatorKeyType.GROUP, coordinatorKeys: ['orders-sink', 'audit-sink'] }
    : { keyType: version >= 1 ? CoordinatorKeyType.TRANSACTION : CoordinatorKeyType.GROUP, coordinatorKeys: ['orders-sink'] };
}

const self = { nodeId: 1, host: '127.0.0.1', port: 9092 };

function responseFor(version: number): FindCoordinatorResponse {
  if (version >= 4) {
    return {
      throttleTimeMs: 5,
      coordinators: [
        { key: 'orders-sink', ...self, errorCode: KafkaErrorCode.NONE, errorMessage: null },
        { key: 'audit-sink', nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'loading' },
      ],
    };
  }
  return {
    throttleTimeMs: version >= 1 ? 5 : 0,
    coordinators: [{ key: '', ...self, errorCode: KafkaErrorCode.NONE, errorMessage: null }],
  };
}

void test('advertises v0–v4, flexible from v3', () => {
  assert.deepEqual(
    [FindCoordinatorApi.key, FindCoordinatorApi.minVersion, FindCoordinatorApi.maxVersion, FindCoordinatorApi.minImplementedVersion, FindCoordinatorApi.flexibleFrom],
    [10, 0, 4, 0, 3],
  );
});

for (const version of versionsOf(FindCoordinatorApi)) {
  void test(`v${version}: request and response round-trip`, () => {
    const req = requestFor(version);
    const reqBytes = encodeRequestBytes(FindCoordinatorApi, version, req);
    assert.deepEqual(decodeRequestBytes(FindCoordinatorApi, version, reqBytes), req);
    const res = responseFor(version);
    const resBytes = encodeResponseBytes(FindCoordinatorApi, version, res);
    assert.deepEqual(decodeResponseBytes(FindCoordinatorApi, version, resBytes), res);
    assertPrefixesRefused((r) => FindCoordinatorApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => FindCoordinatorApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const req = requestFor(version);
    const theirs = platformaticRequestBytes('findCoordinator', version, req.keyType, req.coordinatorKeys);
    assert.deepEqual(decodeRequestBytes(FindCoordinatorApi, version, theirs), req);
    assert.deepEqual(encodeRequestBytes(FindCoordinatorApi, version, req), theirs);

    const res = responseFor(version);
    const parsed = platformaticParseResponse('findCoordinator', 10, version, encodeResponseBytes(FindCoordinatorApi, version, res));
    assert.deepEqual(parsed, res);
  });
}

void test('v0: a version that lacks key_type decodes it as group (0)', () => {
  const req = { keyType: CoordinatorKeyType.TRANSACTION, coordinatorKeys: ['orders-sink'] };
  assert.deepEqual(decodeRequestBytes(FindCoordinatorApi, 0, encodeRequestBytes(FindCoordinatorApi, 0, req)), {
    keyType: CoordinatorKeyType.GROUP,
    coordinatorKeys: ['orders-sink'],
  });
});

for (const version of [0, 1, 2]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const req = requestFor(version);
    const args = version === 0 ? { groupId: 'orders-sink' } : { coordinatorKey: 'orders-sink', coordinatorType: req.keyType };
    const theirs = await kafkajsRequestBytes('findCoordinator', version, args, 10);
    assert.deepEqual(decodeRequestBytes(FindCoordinatorApi, version, theirs), req);

    const res = responseFor(version);
    const decoded = (await kafkajsDecodeResponse('findCoordinator', version, encodeResponseBytes(FindCoordinatorApi, version, res))) as Record<
      string,
      unknown
    >;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, res.throttleTimeMs);
    assert.deepEqual(rest, version === 0 ? { errorCode: 0, coordinator: self } : { errorCode: 0, errorMessage: null, coordinator: self });
  });
}

void test('v3 and below carry exactly one key and one coordinator; encoding more is a programmer error', () => {
  assert.throws(() => FindCoordinatorApi.encodeRequest(new Writer(), 3, { keyType: 0, coordinatorKeys: ['a', 'b'] }), /exactly one key/);
  assert.throws(() => FindCoordinatorApi.encodeResponse(new Writer(), 2, { throttleTimeMs: 0, coordinators: [] }), /exactly one coordinator/);
});

void test('v3–v4: an unknown tagged field from a newer client is skipped', () => {
  for (const version of [3, 4]) {
    const req = requestFor(version);
    assert.deepEqual(decodeRequestBytes(FindCoordinatorApi, version, withUnknownTaggedField(encodeRequestBytes(FindCoordinatorApi, version, req))), req);
    const res = responseFor(version);
    assert.deepEqual(
      decodeResponseBytes(FindCoordinatorApi, version, withUnknownTaggedField(encodeResponseBytes(FindCoordinatorApi, version, res))),
      res,
    );
  }
});
