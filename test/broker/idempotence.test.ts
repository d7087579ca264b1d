// Idempotent producers: a retried batch is stored once, a gap in sequence numbers is refused, and real clients with
// idempotence turned on produce normally.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { InitProducerIdApi } from '../../src/kafka/apis/init-producer-id.ts';
import { ProduceApi } from '../../src/kafka/apis/produce.ts';
import { KafkaErrorCode } from '../../src/kafka/errors.ts';
import { encodeRecordBatch } from '../../src/kafka/record-batch.ts';
import { defer, run, startBroker } from '../helpers/broker.ts';
import { RawClient } from '../helpers/raw-client.ts';

test('a retried idempotent batch is acknowledged with its first offset and stored once', async (t) => {
  const { broker } = await startBroker(t);
  await broker.topics.create('idem', 1);
  const client = await RawClient.connect(broker.port);
  defer(t, () => client.close());
  const init = await client.request(InitProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  assert.equal(init.errorCode, 0);
  assert.ok(init.producerId >= 0);
  const batch = (baseSequence: number, values: string[]) =>
    encodeRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v) })), producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence });
  const produce = async (records: Buffer) => {
    const res = await client.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'idem', partitionData: [{ index: 0, records }] }] });
    return res.responses[0]!.partitionResponses[0]!;
  };
  const first = await produce(batch(0, ['a', 'b', 'c']));
  assert.deepEqual([first.errorCode, first.baseOffset], [0, 0]);
  // The same batch again (a producer retry after a lost response): same answer, nothing stored twice.
  const retry = await produce(batch(0, ['a', 'b', 'c']));
  assert.deepEqual([retry.errorCode, retry.baseOffset], [0, 0]);
  const next = await produce(batch(3, ['d']));
  assert.deepEqual([next.errorCode, next.baseOffset], [0, 3]);
  // A gap: sequence 10 where 4 is expected.
  const gap = await produce(batch(10, ['z']));
  assert.equal(gap.errorCode, KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(broker.topics.get('idem')!.partitions[0]!.logEndOffset, 4);
  // A new producer id for every InitProducerId, also across a restart (ids come from a persisted reservation).
  const again = await client.request(InitProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  assert.notEqual(again.producerId, init.producerId);
});

test('KafkaJS, platformatic and librdkafka idempotent producers write every record exactly once', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('idem.clients', 1);
  const kafka = new Kafka({ clientId: 'idem-kjs', brokers: [address], logLevel: logLevel.NOTHING });
  const kjs = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await kjs.connect();
  defer(t, () => kjs.disconnect());
  for (let i = 0; i < 10; i++) await kjs.send({ topic: 'idem.clients', messages: Array.from({ length: 100 }, (_, j) => ({ value: `kjs-${i}-${j}` })) });
  const pf = new Producer({ clientId: 'idem-pf', bootstrapBrokers: [address], serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL });
  defer(t, () => pf.close());
  for (let i = 0; i < 10; i++) await pf.send({ messages: Array.from({ length: 100 }, (_, j) => ({ topic: 'idem.clients', partition: 0, value: `pf-${i}-${j}` })) });
  // librdkafka refuses idempotence outright when the broker lacks it, so this also proves InitProducerId is advertised.
  const lines = Array.from({ length: 1000 }, (_, i) => `rdk-${i}`);
  await run('kcat', ['-b', address, '-P', '-t', 'idem.clients', '-p', '0', '-X', 'enable.idempotence=true'], { input: `${lines.join('\n')}\n` });
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', 'idem.clients', '-o', 'beginning', '-e']);
  const values = stdout.toString().split('\n').slice(0, -1);
  assert.equal(values.length, 3000);
  assert.equal(new Set(values).size, 3000);
});
