// DescribeGroups codec: every version round-trips, and matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTHORIZED_OPERATIONS_OMITTED } from '../../../src/kafka/api.ts';
import {
  DescribeGroupsApi,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
} from '../../../src/kafka/apis/describe-groups.ts';
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

const request: DescribeGroupsRequest = { groups: ['orders-sink', 'audit-sink'], includeAuthorizedOperations: true };

function requestAt(version: number): DescribeGroupsRequest {
  return { ...request, includeAuthorizedOperations: version >= 3 ? request.includeAuthorizedOperations : false };
}

const response: DescribeGroupsResponse = {
  throttleTimeMs: 2,
  groups: [
    {
      errorCode: KafkaErrorCode.NONE,
      groupId: 'orders-sink',
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
      members: [
        {
          memberId: 'consumer-1-4f0e',
          groupInstanceId: 'sink-pod-0',
          clientId: 'oxbow-sink',
          clientHost: '/127.0.0.1',
          memberMetadata: Buffer.from([0, 1, 2, 3]),
          memberAssignment: Buffer.from([9, 8, 7]),
        },
        {
          memberId: 'consumer-2-77aa',
          groupInstanceId: null,
          clientId: 'oxbow-sink',
          clientHost: '/127.0.0.1',
          memberMetadata: Buffer.alloc(0),
          memberAssignment: Buffer.alloc(0),
        },
      ],
      authorizedOperations: 0b1_0000_1000,
    },
    {
      errorCode: KafkaErrorCode.GROUP_ID_NOT_FOUND,
      groupId: 'audit-sink',
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    },
  ],
};

function responseAt(version: number): DescribeGroupsResponse {
  return {
    throttleTimeMs: version >= 1 ? response.throttleTimeMs : 0,
    groups: response.groups.map((g) => ({
      ...g,
      members: g.members.map((m) => ({ ...m, groupInstanceId: version >= 4 ? m.groupInstanceId : null })),
      authorizedOperations: version >= 3 ? g.authorizedOperations : AUTHORIZED_OPERATIONS_OMITTED,
    })),
  };
}

void test('advertises v0–v5, flexible from v5', () => {
  assert.deepEqual(
    [DescribeGroupsApi.key, DescribeGroupsApi.minVersion, DescribeGroupsApi.maxVersion, DescribeGroupsApi.minImplementedVersion, DescribeGroupsApi.flexibleFrom],
    [15, 0, 5, 0, 5],
  );
});

for (const version of versionsOf(DescribeGroupsApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(DescribeGroupsApi, version, request);
    assert.deepEqual(decodeRequestBytes(DescribeGroupsApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(DescribeGroupsApi, version, response);
    assert.deepEqual(decodeResponseBytes(DescribeGroupsApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => DescribeGroupsApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => DescribeGroupsApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const theirs = platformaticRequestBytes('describeGroups', version, request.groups, request.includeAuthorizedOperations);
    assert.deepEqual(decodeRequestBytes(DescribeGroupsApi, version, theirs), requestAt(version));
    assert.deepEqual(encodeRequestBytes(DescribeGroupsApi, version, requestAt(version)), theirs);

    const parsed = platformaticParseResponse('describeGroups', 15, version, encodeResponseBytes(DescribeGroupsApi, version, response));
    assert.deepEqual(parsed, responseAt(version));
  });
}

for (const version of [0, 1, 2]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes('describeGroups', version, { groupIds: request.groups }, 15);
    assert.deepEqual(decodeRequestBytes(DescribeGroupsApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('describeGroups', version, encodeResponseBytes(DescribeGroupsApi, version, response))) as Record<
      string,
      unknown
    >;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, {
      groups: response.groups.map((g) => ({
        errorCode: g.errorCode,
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.memberMetadata,
          memberAssignment: m.memberAssignment,
        })),
      })),
    });
  });
}

void test('v5: an unknown tagged field from a newer client is skipped', () => {
  assert.deepEqual(decodeRequestBytes(DescribeGroupsApi, 5, withUnknownTaggedField(encodeRequestBytes(DescribeGroupsApi, 5, request))), request);
  assert.deepEqual(decodeResponseBytes(DescribeGroupsApi, 5, withUnknownTaggedField(encodeResponseBytes(DescribeGroupsApi, 5, response))), response);
});
