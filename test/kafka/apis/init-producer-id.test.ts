// InitProducerId codec: every version round-trips, and KafkaJS and @platformatic/kafka bytes agree with ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InitProducerIdApi as api, type InitProducerIdRequest, type InitProducerIdResponse } from '../../../src/kafka/apis/init-producer-id.ts';
import { assertRoundTrips, decodeRequestBytes, kafkajsRequestBytes, kafkajsDecodeResponse, platformaticRequestBytes, platformaticParseResponse, encodeResponseBytes } from './codec-test-kit.ts';

const request: InitProducerIdRequest = { transactionalId: 'sink-txn-0', transactionTimeoutMs: 60_000, producerId: 1001, producerEpoch: 3 };

function requestAt(v: number): InitProducerIdRequest {
  return { ...request, producerId: v >= 3 ? request.producerId : -1, producerEpoch: v >= 3 ? request.producerEpoch : -1 };
}

const response: InitProducerIdResponse = { throttleTimeMs: 0, errorCode: 0, producerId: 2 ** 45 + 1, producerEpoch: 4 };

void test('advertises InitProducerId v0–v4, flexible from v2', () => {
  assert.deepEqual([api.key, api.minVersion, api.maxVersion, api.minImplementedVersion, api.flexibleFrom], [22, 0, 4, 0, 2]);
});

void test('every version round-trips; fields a version lacks come back as defaults', () => {
  assertRoundTrips(api, { request, response }, { request: requestAt, response: () => response });
  assert.equal(decodeRequestBytes(api, 2, Buffer.from('00' + '0000ea60' + '00', 'hex')).transactionalId, null, 'compact null transactional id');
});

void test('KafkaJS v0–v1 requests decode to what KafkaJS meant', async () => {
  for (let v = 0; v <= 1; v++) {
    const idempotent = await kafkajsRequestBytes('initProducerId', v, { transactionalId: null, transactionTimeout: 30_000 }, api.key);
    assert.deepStrictEqual(decodeRequestBytes(api, v, idempotent), { transactionalId: null, transactionTimeoutMs: 30_000, producerId: -1, producerEpoch: -1 });
    const transactional = await kafkajsRequestBytes('initProducerId', v, { transactionalId: 'tx', transactionTimeout: 30_000 }, api.key);
    assert.equal(decodeRequestBytes(api, v, transactional).transactionalId, 'tx');
  }
});

void test('KafkaJS v0–v1 decodes our responses', async () => {
  for (let v = 0; v <= 1; v++) {
    const parsed = (await kafkajsDecodeResponse('initProducerId', v, encodeResponseBytes(api, v, response))) as { errorCode: number; producerId: string; producerEpoch: number };
    assert.deepEqual([parsed.errorCode, parsed.producerId, parsed.producerEpoch], [0, String(2 ** 45 + 1), 4], `v${v}`);
  }
});

void test('@platformatic/kafka v0–v4 requests decode to what it meant', () => {
  for (let v = 0; v <= 4; v++) {
    const req = decodeRequestBytes(api, v, platformaticRequestBytes('initProducerId', v, 'sink-txn-0', 60_000, 1001n, 3));
    assert.deepStrictEqual(req, requestAt(v), `v${v}`);
    const fresh = decodeRequestBytes(api, v, platformaticRequestBytes('initProducerId', v, null, 60_000));
    assert.deepStrictEqual(fresh, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, `v${v}`);
  }
});

void test('@platformatic/kafka v0–v4 parses our responses', () => {
  for (let v = 0; v <= 4; v++) {
    const parsed = platformaticParseResponse('initProducerId', api.key, v, encodeResponseBytes(api, v, response)) as { errorCode: number; producerId: bigint; producerEpoch: number };
    assert.deepEqual([parsed.errorCode, parsed.producerId, parsed.producerEpoch], [0, 2n ** 45n + 1n, 4], `v${v}`);
  }
});
