// The sink's own reading path against real brokers: the topic fetcher (records produced by a client no one here wrote,
// @platformatic/kafka, in every compression it offers) and the client connection under it.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { Admin, CompressionAlgorithms, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { FetchApi, forEachRecord, KafkaClientError } from '../../src/kafka/index.ts';
import { KafkaClientConnection } from '../../src/sink/kafka-connection.ts';
import { TopicFetcher } from '../../src/sink/topic-fetcher.ts';
import { defer, startBroker } from '../helpers/broker.ts';

/** A broker with `topic` of `partitions` partitions, and a producer of string values to it. */
async function topicWithProducer(t: TestContext, topic: string, partitions: number): Promise<{ address: string; producer: Producer<string, string, string, string> }> {
  const { address } = await startBroker(t);
  const admin = new Admin({ clientId: 'fetcher-test', bootstrapBrokers: [address] });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();
  const producer = new Producer({ clientId: 'fetcher-test', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  return { address, producer };
}

async function readUntil(fetcher: TopicFetcher, count: number, timeoutMs: number): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  let total = 0;
  const deadline = Date.now() + timeoutMs;
  while (total < count) {
    if (Date.now() > deadline) throw new Error(`read ${total} of ${count} records within ${timeoutMs} ms`);
    const parts = await fetcher.next();
    assert.ok(parts !== null, 'the fetcher is open');
    for (const part of parts) {
      let list = byPartition.get(part.partition);
      if (list === undefined) byPartition.set(part.partition, (list = []));
      const walked = forEachRecord(part.records, part.fetchOffset, (buf, _offset, _ts, valueStart, valueLength) => {
        list.push(buf.toString('utf8', valueStart, valueStart + valueLength));
      });
      total += walked.records;
    }
  }
  return byPartition;
}

test('TopicFetcher reads what a real client produced, in every codec, partition by partition in order; out of range falls back to the earliest offset', async (t) => {
  const topic = 'fetcher.test';
  const { address, producer } = await topicWithProducer(t, topic, 3);
  const expected = new Map<number, string[]>([[0, []], [1, []], [2, []]]);
  const codecs = [CompressionAlgorithms.NONE, CompressionAlgorithms.GZIP, CompressionAlgorithms.SNAPPY, CompressionAlgorithms.LZ4, CompressionAlgorithms.ZSTD];
  for (const [round, compression] of codecs.entries()) {
    const messages = Array.from({ length: 300 }, (_, i) => ({ topic, partition: i % 3, value: `{"round":${round},"i":${i}}` }));
    for (const m of messages) expected.get(m.partition)!.push(m.value);
    await producer.send({ messages, compression });
  }
  const logs: string[] = [];
  const fetcher = new TopicFetcher({ brokers: [address], topic, clientId: 'fetcher-test', maxWaitMs: 200, maxBytes: 64 * 1024, partitionMaxBytes: 16 * 1024, log: (l) => logs.push(l) });
  defer(t, () => fetcher.close());
  for (const p of [0, 1, 2]) fetcher.seek(p, 'earliest');
  assert.deepEqual(await readUntil(fetcher, 1500, 20_000), expected, 'every record once, in order per partition, across many small fetches');

  // Nothing new: a fetch waits its max time and says so with an empty answer.
  assert.deepEqual(await fetcher.next(), []);

  // A position past the end of the log is out of range: the fetcher logs it and reads from the earliest offset.
  fetcher.remove(1);
  fetcher.remove(2);
  fetcher.seek(0, 1_000_000);
  const again = await readUntil(fetcher, 500, 20_000);
  assert.deepEqual(again, new Map([[0, expected.get(0)!]]));
  assert.ok(logs.some((l) => /partition 0 of fetcher\.test: offset 1000000 is no longer in the log; reading from its earliest offset/.test(l)), logs.join('\n'));

  await fetcher.close();
  assert.equal(await fetcher.next(), null, 'a closed fetcher answers null');
});

test('TopicFetcher with no broker to reach logs why and retries, and closes promptly', async () => {
  const logs: string[] = [];
  const fetcher = new TopicFetcher({ brokers: ['127.0.0.1:1'], topic: 'nowhere', clientId: 'fetcher-test', maxWaitMs: 100, maxBytes: 1024, partitionMaxBytes: 1024, log: (l) => logs.push(l) });
  fetcher.seek(0, 0);
  const deadline = Date.now() + 10_000;
  while (logs.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(logs[0] ?? '', /fetching nowhere failed: cannot connect to 127\.0\.0\.1:1: .*; retrying in 100 ms/);
  assert.match(logs[1] ?? '', /retrying in 200 ms/, 'the pause grows');
  const started = Date.now();
  await fetcher.close();
  assert.ok(Date.now() - started < 1000, 'close does not wait out the pause');
  assert.ok(new KafkaClientError('OXBOW_KAFKA_CONNECTION_LOST', 'x', { retryable: true }).retryable);
});

test('KafkaClientConnection: answers of several MiB arrive whole, and requests sent together get their own answers', async (t) => {
  const topic = 'fetcher.large';
  const { address, producer } = await topicWithProducer(t, topic, 2);
  // 2 × 3 MB of values, in batches of about 256 KB.
  const value = (p: number, i: number) => `${p}:${i}:${'x'.repeat(1000)}`;
  for (let b = 0; b < 24; b++) {
    await producer.send({ messages: Array.from({ length: 256 }, (_, i) => ({ topic, partition: b % 2, value: value(b % 2, Math.floor(b / 2) * 256 + i) })) });
  }
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const c = await KafkaClientConnection.connect(host, port, { clientId: 'fetcher-test', timeoutMs: 5000 });
  defer(t, () => c.close());
  const fetch = (partition: number) =>
    c.request(FetchApi, 11, {
      clusterId: null, replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 16 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, rackId: '', forgottenTopicsData: [],
      topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 8 * 1024 * 1024 }] }],
    });
  // Two large answers requested together on one connection: each is read whole and matched to its request.
  const [a, b] = await Promise.all([fetch(0), fetch(1)]);
  for (const [partition, res] of [[0, a], [1, b]] as const) {
    const records = res.responses[0]!.partitions[0]!.records!;
    assert.ok(records.length > 3_000_000, `partition ${partition}: ${records.length} bytes in one answer`);
    const values: string[] = [];
    forEachRecord(records, 0, (buf, _o, _t, vs, vl) => values.push(buf.toString('utf8', vs, vs + vl)), true);
    assert.deepEqual(values, Array.from({ length: 3072 }, (_, i) => value(partition, i)));
  }
  c.close();
  await assert.rejects(fetch(0), (err: unknown) => err instanceof KafkaClientError && err.code === 'OXBOW_KAFKA_CONNECTION_LOST');
});

test('TopicFetcher: a broker that accepts but never answers is given up on after the request timeout, and tried again', async (t) => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as net.AddressInfo;
  const logs: string[] = [];
  const fetcher = new TopicFetcher({ brokers: [`127.0.0.1:${port}`], topic: 'silent', clientId: 'fetcher-test', maxWaitMs: 100, maxBytes: 1024, partitionMaxBytes: 1024, requestTimeoutMs: 200, log: (l) => logs.push(l) });
  fetcher.seek(0, 0);
  const deadline = Date.now() + 10_000;
  while (logs.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await fetcher.close();
  assert.match(logs[0] ?? '', /fetching silent failed: no answer to Metadata from 127\.0\.0\.1:\d+ within 200 ms; closing the connection; retrying in 100 ms/);
  assert.match(logs[1] ?? '', /no answer to Metadata/, 'tried again on a new connection');
  assert.ok(sockets.length >= 2, `a new connection per attempt (${sockets.length})`);
});
