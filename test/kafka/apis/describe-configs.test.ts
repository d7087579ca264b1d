// DescribeConfigs codec: every version round-trips, and KafkaJS and @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescribeConfigsApi as api, type DescribeConfigsRequest, type DescribeConfigsResponse } from '../../../src/kafka/apis/describe-configs.ts';
import { assertRoundTrips, decodeRequestBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const TOPIC = 2;
const BROKER = 4;

const request: DescribeConfigsRequest = {
  resources: [
    { resourceType: TOPIC, resourceName: 'orders.raw', configurationKeys: ['retention.ms', 'cleanup.policy'] },
    { resourceType: BROKER, resourceName: '1', configurationKeys: null },
  ],
  includeSynonyms: true,
  includeDocumentation: true,
};

function requestAt(v: number): DescribeConfigsRequest {
  return { ...request, includeSynonyms: v >= 1, includeDocumentation: v >= 3 };
}

const response: DescribeConfigsResponse = {
  throttleTimeMs: 6,
  results: [
    {
      errorCode: 0,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 'orders.raw',
      configs: [
        {
          name: 'retention.ms',
          value: '604800000',
          readOnly: false,
          isDefault: true,
          configSource: 5,
          isSensitive: false,
          synonyms: [{ name: 'log.retention.ms', value: null, source: 5 }],
          configType: 5,
          documentation: 'How long to keep a log segment.',
        },
        { name: 'sasl.password', value: null, readOnly: true, isDefault: false, configSource: 4, isSensitive: true, synonyms: [], configType: 9, documentation: null },
      ],
    },
    { errorCode: 3, errorMessage: 'Unknown topic', resourceType: TOPIC, resourceName: 'missing', configs: [] },
  ],
};

function responseAt(v: number): DescribeConfigsResponse {
  return {
    ...response,
    results: response.results.map((r) => ({
      ...r,
      configs: r.configs.map((c) => ({
        ...c,
        isDefault: v === 0 ? c.isDefault : false,
        configSource: v >= 1 ? c.configSource : -1,
        synonyms: v >= 1 ? c.synonyms : [],
        configType: v >= 3 ? c.configType : 0,
        documentation: v >= 3 ? c.documentation : null,
      })),
    })),
  };
}

void test('advertises DescribeConfigs v0–v4, flexible from v4', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [32, 0, 4, 0, 4]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: responseAt });
});

void test('KafkaJS v0–v2 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 2; v++) {
    const bytes = await kafkajsRequestBytes('describeConfigs', v, {
      resources: [{ type: TOPIC, name: 'orders.raw', configNames: ['retention.ms'] }, { type: BROKER, name: '1' }],
      includeSynonyms: true,
    }, api.key);
    assert.deepStrictEqual(decodeRequestBytes(api, v, bytes), {
      // KafkaJS writes "no names" as a null list: every key
      resources: [
        { resourceType: TOPIC, resourceName: 'orders.raw', configurationKeys: ['retention.ms'] },
        { resourceType: BROKER, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: v >= 1,
      includeDocumentation: false,
    }, `v${v}`);
  }
});

void test('KafkaJS v0–v2 decodes our responses', async () => {
  for (let v = 0; v <= 2; v++) {
    const parsed = (await kafkajsDecodeResponse('describeConfigs', v, encodeResponseBytes(api, v, response))) as {
      throttleTime: number;
      clientSideThrottleTime?: number;
      resources: { errorCode: number; resourceName: string; configEntries: { configName: string; configValue: string | null; isDefault?: boolean; isSensitive: boolean; configSynonyms?: { configName: string }[] }[] }[];
    };
    // From v2 KafkaJS reads the throttle as already applied by the broker (KIP-219) and reports it apart.
    assert.equal(v >= 2 ? parsed.clientSideThrottleTime : parsed.throttleTime, 6, `v${v}`);
    assert.deepEqual(parsed.resources.map((r) => [r.resourceName, r.errorCode]), [['orders.raw', 0], ['missing', 3]], `v${v}`);
    const c0 = parsed.resources[0]!.configEntries[0]!;
    assert.deepEqual([c0.configName, c0.configValue, c0.isSensitive], ['retention.ms', '604800000', false]);
    if (v >= 1) assert.deepEqual(c0.configSynonyms!.map((s) => s.configName), ['log.retention.ms']);
    assert.equal(parsed.resources[0]!.configEntries[1]!.isSensitive, true);
  }
});

void test('@platformatic/kafka v0–v4 requests decode to what it meant', () => {
  for (let v = 0; v <= 4; v++) {
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('describeConfigs', v, request.resources, true, true));
    assert.deepStrictEqual(req, requestAt(v), `v${v}`);
  }
});

void test('@platformatic/kafka v0–v4 parses our responses', () => {
  for (let v = 0; v <= 4; v++) {
    const parsed = platformaticParseResponse('describeConfigs', api.key, v, encodeResponseBytes(api, v, response)) as {
      throttleTimeMs: number;
      results: { errorCode: number; errorMessage: string | null; resourceName: string; configs: { name: string; value: string | null; configSource?: number; synonyms?: { name: string }[]; documentation?: string | null }[] }[];
    };
    assert.equal(parsed.throttleTimeMs, 6);
    assert.deepEqual(parsed.results.map((r) => [r.resourceName, r.errorCode, r.errorMessage]), [['orders.raw', 0, null], ['missing', 3, 'Unknown topic']], `v${v}`);
    const c0 = parsed.results[0]!.configs[0]!;
    assert.deepEqual([c0.name, c0.value], ['retention.ms', '604800000']);
    if (v >= 1) assert.deepEqual([c0.configSource, c0.synonyms!.map((s) => s.name)], [5, ['log.retention.ms']]);
    if (v >= 3) assert.equal(c0.documentation, 'How long to keep a log segment.');
  }
});
