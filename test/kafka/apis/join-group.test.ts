// JoinGroup codec: every version round-trips, and matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JoinGroupApi, type JoinGroupRequest, type JoinGroupResponse } from '../../../src/kafka/apis/join-group.ts';
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

// A consumer protocol subscription (version 0, topics ["orders"]) as assignors send it; opaque to the codec.
const subscription = Buffer.from('0000' + '00000001' + '0006' + Buffer.from('orders').toString('hex') + 'ffffffff', 'hex');

const request: JoinGroupRequest = {
  groupId: 'orders-sink',
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 300_000,
  memberId: 'rdkafka-5d3c8e0f',
  groupInstanceId: 'sink-pod-0',
  protocolType: 'consumer',
  protocols: [
    { name: 'range', metadata: subscription },
    { name: 'roundrobin', metadata: Buffer.alloc(0) },
  ],
};

/** What a version can carry: fields it lacks take their defaults from the message definition. */
function requestAt(version: number, req = request): JoinGroupRequest {
  return {
    ...req,
    rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : -1,
    groupInstanceId: version >= 5 ? req.groupInstanceId : null,
  };
}

const response: JoinGroupResponse = {
  throttleTimeMs: 7,
  errorCode: KafkaErrorCode.NONE,
  generationId: 3,
  protocolName: 'range',
  leader: 'rdkafka-5d3c8e0f',
  memberId: 'rdkafka-5d3c8e0f',
  members: [
    { memberId: 'rdkafka-5d3c8e0f', groupInstanceId: 'sink-pod-0', metadata: subscription },
    { memberId: 'rdkafka-77aa01b2', groupInstanceId: null, metadata: Buffer.alloc(0) },
  ],
};

function responseAt(version: number, res = response): JoinGroupResponse {
  return {
    ...res,
    throttleTimeMs: version >= 2 ? res.throttleTimeMs : 0,
    members: res.members.map((m) => ({ ...m, groupInstanceId: version >= 5 ? m.groupInstanceId : null })),
  };
}

void test('advertises v0–v6, flexible from v6', () => {
  assert.deepEqual(
    [JoinGroupApi.key, JoinGroupApi.minVersion, JoinGroupApi.maxVersion, JoinGroupApi.minImplementedVersion, JoinGroupApi.flexibleFrom],
    [11, 0, 6, 0, 6],
  );
});

for (const version of versionsOf(JoinGroupApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(JoinGroupApi, version, request);
    assert.deepEqual(decodeRequestBytes(JoinGroupApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(JoinGroupApi, version, response);
    assert.deepEqual(decodeResponseBytes(JoinGroupApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => JoinGroupApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => JoinGroupApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const theirs = platformaticRequestBytes(
      'joinGroup',
      version,
      request.groupId,
      request.sessionTimeoutMs,
      request.rebalanceTimeoutMs,
      request.memberId,
      request.groupInstanceId,
      request.protocolType,
      request.protocols,
    );
    assert.deepEqual(decodeRequestBytes(JoinGroupApi, version, theirs), requestAt(version));
    assert.deepEqual(encodeRequestBytes(JoinGroupApi, version, requestAt(version)), theirs);

    const parsed = platformaticParseResponse('joinGroup', 11, version, encodeResponseBytes(JoinGroupApi, version, response));
    assert.deepEqual(parsed, { ...responseAt(version), protocolType: null, skipAssignment: false });
  });
}

for (const version of [0, 1, 2, 3, 4, 5]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes(
      'joinGroup',
      version,
      {
        groupId: request.groupId,
        sessionTimeout: request.sessionTimeoutMs,
        rebalanceTimeout: request.rebalanceTimeoutMs,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: request.protocolType,
        groupProtocols: request.protocols,
      },
      11,
    );
    assert.deepEqual(decodeRequestBytes(JoinGroupApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('joinGroup', version, encodeResponseBytes(JoinGroupApi, version, response))) as Record<
      string,
      unknown
    >;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 2) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, {
      errorCode: response.errorCode,
      generationId: response.generationId,
      groupProtocol: response.protocolName,
      leaderId: response.leader,
      memberId: response.memberId,
      members: response.members.map((m) =>
        version >= 5
          ? { memberId: m.memberId, groupInstanceId: m.groupInstanceId, memberMetadata: m.metadata }
          : { memberId: m.memberId, memberMetadata: m.metadata },
      ),
    });
  });
}

void test('MEMBER_ID_REQUIRED carries the assigned member id to the client (v4+ two-step join)', () => {
  const res: JoinGroupResponse = {
    throttleTimeMs: 0,
    errorCode: KafkaErrorCode.MEMBER_ID_REQUIRED,
    generationId: -1,
    protocolName: '',
    leader: '',
    memberId: 'kafkajs-0b6f6a0c',
    members: [],
  };
  for (const version of [4, 5, 6]) {
    const parsed = platformaticParseResponse('joinGroup', 11, version, encodeResponseBytes(JoinGroupApi, version, res)) as JoinGroupResponse;
    assert.equal(parsed.errorCode, KafkaErrorCode.MEMBER_ID_REQUIRED);
    assert.equal(parsed.memberId, 'kafkajs-0b6f6a0c');
  }
});

void test('v6: an unknown tagged field from a newer client is skipped', () => {
  const bytes = withUnknownTaggedField(encodeRequestBytes(JoinGroupApi, 6, request));
  assert.deepEqual(decodeRequestBytes(JoinGroupApi, 6, bytes), request);
  const resBytes = withUnknownTaggedField(encodeResponseBytes(JoinGroupApi, 6, response));
  assert.deepEqual(decodeResponseBytes(JoinGroupApi, 6, resBytes), response);
});
