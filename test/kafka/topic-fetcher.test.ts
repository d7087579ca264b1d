// Reading records with Oxbow's own Fetch requests: the record walker over batches as they come off the wire, and the
// topic fetcher against a real broker, with records produced by a client no one here wrote (@platformatic/kafka) in
// every compression it offers.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Admin, CompressionAlgorithms, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { BatchAttribute, encodeRecordBatch } from '../../src/kafka/record-batch.ts';
import { forEachRecord, KafkaClientError, readRecordKeyAndHeaders, TopicFetcher } from '../../src/kafka/index.ts';
import { KafkaCodecError } from '../../src/kafka/errors.ts';
import { KafkaClientConnection } from '../../src/kafka/client-connection.ts';
import { FetchApi } from '../../src/kafka/apis/fetch.ts';
import { defer, startBroker } from '../helpers/broker.ts';

type Seen = { offset: number; timestampMs: number; value: string | null };

function walk(records: Buffer, fromOffset: number): { seen: Seen[]; nextOffset: number } {
  const seen: Seen[] = [];
  const result = forEachRecord(records, fromOffset, (buf, offset, timestampMs, valueStart, valueLength) => {
    seen.push({ offset, timestampMs, value: valueLength < 0 ? null : buf.toString('utf8', valueStart, valueStart + valueLength) });
  });
  assert.equal(result.records, seen.length);
  return { seen, nextOffset: result.nextOffset };
}

test('forEachRecord: every record of whole batches in order, any codec; from an offset inside a batch; a cut-off batch is left for later', () => {
  const a = encodeRecordBatch({ baseOffset: 0, records: [0, 1, 2].map((i) => ({ key: null, value: `v${i}`, timestamp: 1000 + i })) });
  const b = encodeRecordBatch({ baseOffset: 3, records: [3, 4].map((i) => ({ key: `k${i}`, value: i === 4 ? null : `v${i}`, timestamp: 2000 + i })), compression: 'gzip' });
  const c = encodeRecordBatch({ baseOffset: 5, records: [{ key: null, value: 'v5', timestamp: 3000 }], compression: 'zstd' });
  const all = walk(Buffer.concat([a, b, c]), 0);
  assert.deepEqual(all.seen, [
    { offset: 0, timestampMs: 1000, value: 'v0' },
    { offset: 1, timestampMs: 1001, value: 'v1' },
    { offset: 2, timestampMs: 1002, value: 'v2' },
    { offset: 3, timestampMs: 2003, value: 'v3' },
    { offset: 4, timestampMs: 2004, value: null },
    { offset: 5, timestampMs: 3000, value: 'v5' },
  ]);
  assert.equal(all.nextOffset, 6);
  // A fetch may start inside a batch: the records before the position are not shown again.
  assert.deepEqual(walk(Buffer.concat([a, b]), 2).seen.map((s) => s.offset), [2, 3, 4]);
  // A broker cuts its answer at the byte limit: the partial batch is not walked, and the next fetch starts at it.
  const cut = walk(Buffer.concat([a, b.subarray(0, b.length - 7)]), 0);
  assert.deepEqual(cut.seen.map((s) => s.offset), [0, 1, 2]);
  assert.equal(cut.nextOffset, 3);
  assert.deepEqual(walk(b.subarray(0, 30), 0), { seen: [], nextOffset: -1 });
});

test('forEachRecord: control batches are skipped but moved past; key and headers of a record on request; bad bytes throw a codec error', () => {
  const marker = encodeRecordBatch({ baseOffset: 7, records: [{ key: 'ctl', value: 'x' }], transactional: true });
  marker.writeInt16BE(marker.readInt16BE(21) | BatchAttribute.CONTROL, 21);
  const data = encodeRecordBatch({ baseOffset: 8, records: [{ key: 'order-1', value: '{"id":1}', headers: [{ key: 'trace', value: 'abc' }, { key: 'empty', value: null }] }] });
  let kept: { key: Buffer | null; headers: { key: string; value: Buffer | null }[] } | null = null;
  const result = forEachRecord(Buffer.concat([marker, data]), 0, (buf, offset, _ts, _vs, _vl, recordStart, recordEnd) => {
    assert.equal(offset, 8, 'the control record is not shown');
    kept = readRecordKeyAndHeaders(buf, recordStart, recordEnd);
  });
  assert.equal(result.nextOffset, 9);
  assert.deepEqual(kept, { key: Buffer.from('order-1'), headers: [{ key: 'trace', value: Buffer.from('abc') }, { key: 'empty', value: null }] });

  const broken = Buffer.from(data);
  broken[61] = 0x7e; // the first record's length (zigzag 63) now runs past its batch
  assert.throws(() => forEachRecord(broken, 0, () => undefined), (err: unknown) => err instanceof KafkaCodecError && /runs past/.test(err.message));
  const badCrc = Buffer.from(data);
  badCrc[badCrc.length - 1]! ^= 0xff;
  assert.doesNotThrow(() => forEachRecord(badCrc, 0, () => undefined));
  assert.throws(() => forEachRecord(badCrc, 0, () => undefined, true), /CRC-32C/);
});

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
  const { address } = await startBroker(t);
  const topic = 'fetcher.test';
  const admin = new Admin({ clientId: 'fetcher-test', bootstrapBrokers: [address] });
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.close();
  const producer = new Producer({ clientId: 'fetcher-test', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
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
  const { address } = await startBroker(t);
  const topic = 'fetcher.large';
  const admin = new Admin({ clientId: 'fetcher-test', bootstrapBrokers: [address] });
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  await admin.close();
  const producer = new Producer({ clientId: 'fetcher-test', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
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
