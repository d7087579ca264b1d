// Broker behaviour a user notices: auto-creation can be turned off, ListOffsets by time, oversized batches are refused,
// and a slow or stuck client does not hold up anyone else.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { Broker, BrokerError } from '../../src/broker/index.ts';
import { resolveConfig } from '../../src/config/index.ts';
import { FetchApi } from '../../src/kafka/apis/fetch.ts';
import { encodeRequestHeader } from '../../src/kafka/header.ts';
import { Writer } from '../../src/kafka/writer.ts';
import { defer, run, startBroker } from '../helpers/broker.ts';

test('with auto-creation off, producing to an unknown topic fails and creates nothing', async (t) => {
  const { broker, address } = await startBroker(t, { autoCreateTopics: false });
  await assert.rejects(run('kcat', ['-b', address, '-P', '-t', 'nowhere', '-X', 'message.timeout.ms=2000'], { input: 'x\n', timeoutMs: 20_000 }));
  assert.equal(broker.topics.get('nowhere'), undefined);
  await broker.topics.create('somewhere', 1);
  await run('kcat', ['-b', address, '-P', '-t', 'somewhere'], { input: 'x\n' });
  assert.equal(broker.topics.get('somewhere')!.partitions[0]!.logEndOffset, 1);
});

test('a second broker on the same data directory is refused while the first runs, and may start after it stops', async (t) => {
  const first = await startBroker(t);
  const config = resolveConfig({ broker: { port: 0, dataDir: first.dataDir } });
  await assert.rejects(Broker.start(config.broker, { log: () => undefined }), (err: unknown) =>
    err instanceof BrokerError && err.code === 'OXBOW_BROKER_DATA_DIR_LOCKED' && err.message.includes(`process ${process.pid}`));
  await first.broker.close();
  const second = await Broker.start(config.broker, { log: () => undefined });
  await second.close();
});

test('KafkaJS finds offsets by timestamp', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('timed', 1);
  const kafka = new Kafka({ clientId: 'timed', brokers: [address], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  defer(t, () => producer.disconnect());
  const base = Date.UTC(2026, 0, 1);
  for (let hour = 0; hour < 5; hour++) {
    await producer.send({ topic: 'timed', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `h${hour}-${i}`, timestamp: String(base + hour * 3_600_000 + i) })) });
  }
  const admin = kafka.admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  const at = async (ts: number) => Number((await admin.fetchTopicOffsetsByTimestamp('timed', ts))[0]!.offset);
  assert.equal(await at(base - 1), 0);
  assert.equal(await at(base + 2 * 3_600_000), 20);
  assert.equal(await at(base + 4 * 3_600_000 + 9), 49);
  // After the last record there is no such offset; KafkaJS then reports the end of the log.
  assert.equal(await at(base + 10 * 3_600_000), 50);
});

test('a batch over max.message.bytes is refused with MESSAGE_TOO_LARGE and nothing is stored', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('small', 1, { 'max.message.bytes': 2048 });
  const producer = new Producer({ clientId: 'big', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL, retries: 0 });
  defer(t, () => producer.close());
  await assert.rejects(producer.send({ messages: [{ topic: 'small', value: 'x'.repeat(10_000) }] }), (err: Error) => /larger than the max message size/.test(inspect(err, { depth: 10 })));
  assert.equal(broker.topics.get('small')!.partitions[0]!.logEndOffset, 0);
  await producer.send({ messages: [{ topic: 'small', value: 'fits' }] });
  assert.equal(broker.topics.get('small')!.partitions[0]!.logEndOffset, 1);
});

test('a consumer that never reads its socket does not hold up other clients', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('bulk', 1);
  await broker.topics.create('other', 1);
  // About 8 MB of data to fetch.
  const lines = Array.from({ length: 8000 }, (_, i) => `${i}:${'b'.repeat(1000)}`);
  await run('kcat', ['-b', address, '-P', '-t', 'bulk'], { input: `${lines.join('\n')}\n` });

  const rssBefore = process.memoryUsage().rss;
  // The stuck client pipelines Fetch requests for the whole log and never reads a byte of the answers.
  const stuck = net.connect(broker.port, '127.0.0.1');
  defer(t, () => stuck.destroy());
  stuck.pause();
  await new Promise((r) => stuck.once('connect', r));
  for (let i = 0; i < 200; i++) {
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, { apiKey: FetchApi.key, apiVersion: 11, correlationId: i, clientId: 'stuck' }, false);
    FetchApi.encodeRequest(w, 11, {
      clusterId: null, replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 50 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'bulk', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 50 * 1024 * 1024 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const frame = w.bytesWritten();
    frame.writeInt32BE(frame.length - 4, 0);
    stuck.write(frame);
  }
  // Meanwhile another client produces and consumes on another topic, promptly.
  const started = Date.now();
  const producer = new Producer({ clientId: 'ok', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  await producer.send({ messages: Array.from({ length: 100 }, (_, i) => ({ topic: 'other', value: `o${i}` })) });
  const consumer = new Consumer({ clientId: 'ok-c', groupId: 'ok-g', bootstrapBrokers: [address], deserializers: stringDeserializers, maxWaitTime: 100 });
  defer(t, () => consumer.close(true));
  const stream = await consumer.consume({ topics: ['other'], mode: 'earliest', autocommit: false });
  let n = 0;
  for await (const _ of stream) if (++n === 100) break;
  await stream.close();
  assert.ok(Date.now() - started < 10_000, `the other client took ${Date.now() - started} ms`);
  // The stuck connection is throttled, not buffered without bound.
  // 200 pipelined fetches of the whole 8 MB log would be 1.6 GB if they were all answered into memory.
  const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
  assert.ok(grownMb < 200, `RSS grew by ${grownMb.toFixed(0)} MB`);
});
