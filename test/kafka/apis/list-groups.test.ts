// ListGroups codec: every version round-trips, and matches the bytes of KafkaJS and @platformatic/kafka.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListGroupsApi, type ListGroupsRequest, type ListGroupsResponse } from '../../../src/kafka/apis/list-groups.ts';
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

const request: ListGroupsRequest = { statesFilter: ['Stable', 'Empty'] };

function requestAt(version: number): ListGroupsRequest {
  return { statesFilter: version >= 4 ? request.statesFilter : [] };
}

const response: ListGroupsResponse = {
  throttleTimeMs: 6,
  errorCode: KafkaErrorCode.NONE,
  groups: [
    { groupId: 'orders-sink', protocolType: 'consumer', groupState: 'Stable' },
    { groupId: 'audit-sink', protocolType: 'consumer', groupState: 'Empty' },
  ],
};

function responseAt(version: number): ListGroupsResponse {
  return {
    throttleTimeMs: version >= 1 ? response.throttleTimeMs : 0,
    errorCode: response.errorCode,
    groups: response.groups.map((g) => ({ ...g, groupState: version >= 4 ? g.groupState : '' })),
  };
}

void test('advertises v0–v4, flexible from v3', () => {
  assert.deepEqual(
    [ListGroupsApi.key, ListGroupsApi.minVersion, ListGroupsApi.maxVersion, ListGroupsApi.minImplementedVersion, ListGroupsApi.flexibleFrom],
    [16, 0, 4, 0, 3],
  );
});

for (const version of versionsOf(ListGroupsApi)) {
  void test(`v${version}: request and response round-trip, absent fields at their defaults`, () => {
    const reqBytes = encodeRequestBytes(ListGroupsApi, version, request);
    assert.deepEqual(decodeRequestBytes(ListGroupsApi, version, reqBytes), requestAt(version));
    const resBytes = encodeResponseBytes(ListGroupsApi, version, response);
    assert.deepEqual(decodeResponseBytes(ListGroupsApi, version, resBytes), responseAt(version));
    assertPrefixesRefused((r) => ListGroupsApi.decodeRequest(r, version), reqBytes);
    assertPrefixesRefused((r) => ListGroupsApi.decodeResponse(r, version), resBytes);
  });

  void test(`v${version}: @platformatic/kafka request decodes, our response parses`, () => {
    const theirs = platformaticRequestBytes('listGroups', version, request.statesFilter, []);
    assert.deepEqual(decodeRequestBytes(ListGroupsApi, version, theirs), requestAt(version));
    assert.deepEqual(encodeRequestBytes(ListGroupsApi, version, requestAt(version)), theirs);

    const parsed = platformaticParseResponse('listGroups', 16, version, encodeResponseBytes(ListGroupsApi, version, response));
    const expected = responseAt(version);
    assert.deepEqual(parsed, { ...expected, groups: expected.groups.map((g) => ({ ...g, groupType: '' })) });
  });
}

for (const version of [0, 1, 2]) {
  void test(`v${version}: KafkaJS request decodes, our response decodes in KafkaJS`, async () => {
    const theirs = await kafkajsRequestBytes('listGroups', version, {}, 16);
    assert.deepEqual(decodeRequestBytes(ListGroupsApi, version, theirs), requestAt(version));

    const decoded = (await kafkajsDecodeResponse('listGroups', version, encodeResponseBytes(ListGroupsApi, version, response))) as Record<string, unknown>;
    const { throttleTime, clientSideThrottleTime, ...rest } = decoded;
    if (version >= 1) assert.equal(clientSideThrottleTime ?? throttleTime, response.throttleTimeMs);
    assert.deepEqual(rest, {
      errorCode: response.errorCode,
      groups: response.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
    });
  });
}

void test('v3–v4: an unknown tagged field from a newer client is skipped', () => {
  for (const version of [3, 4]) {
    assert.deepEqual(
      decodeRequestBytes(ListGroupsApi, version, withUnknownTaggedField(encodeRequestBytes(ListGroupsApi, version, request))),
      requestAt(version),
    );
    assert.deepEqual(
      decodeResponseBytes(ListGroupsApi, version, withUnknownTaggedField(encodeResponseBytes(ListGroupsApi, version, response))),
      responseAt(version),
    );
  }
});
