// Large produce requests are assembled in reused buffers (src/broker/frame-pool.ts); a buffer goes back only after its
// request is answered, so requests in flight on one connection never see each other's bytes. Fetches read record
// batches into such buffers too; one goes back only once its answer is written to the socket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { FetchApi, type FetchRequest } from '../../src/kafka/apis/fetch.ts';
import { ProduceApi } from '../../src/kafka/apis/produce.ts';
import { encodeRequestHeader } from '../../src/kafka/header.ts';
import { Reader } from '../../src/kafka/reader.ts';
import { encodeRecordBatch, forEachRecord } from '../../src/kafka/record-batch.ts';
import { Writer } from '../../src/kafka/writer.ts';
import { FramePool, POOLED_FRAME_MIN_BYTES } from '../../src/broker/frame-pool.ts';
import { defer, run, startBroker } from '../helpers/broker.ts';
import { RawClient } from '../helpers/raw-client.ts';

test('the frame pool hands a buffer out again only after it is released, and keeps no more idle bytes than allowed', () => {
  const pool = new FramePool(3 * POOLED_FRAME_MIN_BYTES);
  const a = pool.acquire(100_000);
  assert.equal(a.length, 2 * POOLED_FRAME_MIN_BYTES, 'sizes are powers of two from 64 KiB');
  const b = pool.acquire(100_000);
  assert.notEqual(a.buffer, b.buffer, 'two buffers in use are distinct');
  pool.release(a);
  assert.equal(pool.acquire(70_000).buffer, a.buffer, 'a released buffer of the size class is used again');
  pool.release(b);
  assert.equal(pool.idleBytes, 2 * POOLED_FRAME_MIN_BYTES);
  pool.release(Buffer.allocUnsafeSlow(4 * POOLED_FRAME_MIN_BYTES));
  assert.equal(pool.idleBytes, 2 * POOLED_FRAME_MIN_BYTES, 'a buffer over the idle limit is left to the collector');
});

test('a full frame pool makes room for the buffer given back by dropping the one given back longest ago', () => {
  const pool = new FramePool(4 * POOLED_FRAME_MIN_BYTES);
  const large = [pool.acquire(2 * POOLED_FRAME_MIN_BYTES), pool.acquire(2 * POOLED_FRAME_MIN_BYTES)];
  const small = pool.acquire(POOLED_FRAME_MIN_BYTES);
  pool.release(large[0]!);
  pool.release(large[1]!);
  assert.equal(pool.idleBytes, 4 * POOLED_FRAME_MIN_BYTES, 'the pool is full of large buffers');
  // The load changes to small buffers: the small one is kept, and the oldest large one makes room for it.
  pool.release(small);
  assert.equal(pool.idleBytes, 3 * POOLED_FRAME_MIN_BYTES);
  assert.equal(pool.acquire(POOLED_FRAME_MIN_BYTES).buffer, small.buffer, 'the small buffer is used again');
  assert.equal(pool.acquire(2 * POOLED_FRAME_MIN_BYTES).buffer, large[1]!.buffer, 'the large buffer given back last is still there');
  const fresh = pool.acquire(2 * POOLED_FRAME_MIN_BYTES);
  assert.notEqual(fresh.buffer, large[0]!.buffer, 'the large buffer given back first was dropped');
  assert.equal(pool.idleBytes, 0);
});

test('large produce requests pipelined on one connection are stored byte for byte', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('frames', 2);
  const client = await RawClient.connect(broker.port);
  defer(t, () => client.close());
  // 24 requests of about 300 KiB, 8 in flight at a time: frames span socket chunks and pool buffers are reused.
  const sent: string[][] = [[], []];
  for (let wave = 0; wave < 3; wave++) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const partition = i % 2;
        const values = Array.from({ length: 1000 }, () => randomBytes(150).toString('hex'));
        const records = encodeRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v) })) });
        assert.ok(records.length > 256 * 1024);
        const res = await client.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'frames', partitionData: [{ index: partition, records }] }] });
        const p = res.responses[0]!.partitionResponses[0]!;
        assert.equal(p.errorCode, 0);
        sent[partition]!.push(...values.map((v, j) => `${p.baseOffset + j}:${v}`));
      }),
    );
  }
  for (const partition of [0, 1]) {
    const { stdout } = await run('kcat', ['-b', address, '-C', '-t', 'frames', '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%o:%s\n'], { timeoutMs: 30_000 });
    const read = stdout.toString().split('\n').filter((l) => l !== '');
    assert.equal(read.length, 12_000);
    assert.deepEqual(read, sent[partition]!.sort((x, y) => Number(x.split(':')[0]) - Number(y.split(':')[0])), `partition ${partition} holds exactly what was sent`);
  }
});

/** `count` records of about 1 KiB in `topic` partition 0, each value naming its topic and offset. */
async function fill(client: Awaited<ReturnType<typeof RawClient.connect>>, topic: string, count: number): Promise<void> {
  const perBatch = 250;
  for (let base = 0; base < count; base += perBatch) {
    const values = Array.from({ length: perBatch }, (_, i) => Buffer.from(expectedValue(topic, base + i)));
    const records = encodeRecordBatch({ records: values.map((value) => ({ key: null, value })) });
    const res = await client.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
  }
}

function expectedValue(topic: string, offset: number): string {
  return `${topic}:${offset}:`.padEnd(1000, topic);
}

function fetchRequest(topic: string, fetchOffset: number): FetchRequest {
  return {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

test('fetch answers still waiting to be sent keep their bytes while other fetches reuse the pool', async (t) => {
  const { broker } = await startBroker(t);
  await broker.topics.create('slow', 1);
  await broker.topics.create('busy', 1);
  const producer = await RawClient.connect(broker.port);
  defer(t, () => producer.close());
  const records = 16_000; // about 16 MiB per topic
  await fill(producer, 'slow', records);
  await fill(producer, 'busy', records);

  // A client that asks for the whole of `slow` in 1 MiB fetches and then reads nothing: the answers fill the socket
  // buffers, and the broker holds the rest (and their pool buffers) until the client reads again.
  const version = 11;
  const slow = net.connect(broker.port, '127.0.0.1');
  defer(t, () => slow.destroy());
  await once(slow, 'connect');
  slow.pause();
  const offsets = Array.from({ length: 16 }, (_, i) => i * 1000);
  for (const [i, offset] of offsets.entries()) {
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, { apiKey: FetchApi.key, apiVersion: version, correlationId: i + 1, clientId: 'slow-reader' }, false);
    FetchApi.encodeRequest(w, version, fetchRequest('slow', offset));
    const frame = w.bytesWritten();
    frame.writeInt32BE(frame.length - 4, 0);
    slow.write(frame);
  }

  // Meanwhile another client reads all of `busy` several times over, taking buffers from the pool again and again.
  const busy = await RawClient.connect(broker.port);
  defer(t, () => busy.close());
  for (let round = 0; round < 3; round++) {
    let next = 0;
    while (next < records) {
      const res = await busy.request(FetchApi, version, fetchRequest('busy', next));
      const data = res.responses[0]!.partitions[0]!.records!;
      const walk = forEachRecord(data, next, (buf, offset, _ts, start, length) => {
        assert.equal(buf.toString('utf8', start, start + length), expectedValue('busy', offset));
      }, true);
      assert.ok(walk.nextOffset > next);
      next = walk.nextOffset;
    }
  }

  // Now the slow client reads its answers: each holds exactly what was stored, CRCs intact.
  slow.resume();
  const chunks: Buffer[] = [];
  let answers = 0;
  let checked = 0;
  let pending = Buffer.alloc(0);
  for await (const chunk of slow) {
    chunks.push(chunk as Buffer);
    pending = Buffer.concat([pending, chunk as Buffer]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      const r = new Reader(pending.subarray(4, 4 + size));
      const correlationId = r.int32();
      const res = FetchApi.decodeResponse(r, version);
      const offset = offsets[correlationId - 1]!;
      const data = res.responses[0]!.partitions[0]!.records!;
      const walk = forEachRecord(data, offset, (buf, o, _ts, start, length) => {
        assert.equal(buf.toString('utf8', start, start + length), expectedValue('slow', o), `record ${o} of the answer to the fetch at ${offset}`);
        checked++;
      }, true);
      assert.ok(walk.records > 0);
      pending = pending.subarray(4 + size);
      answers++;
    }
    if (answers === offsets.length) break;
  }
  assert.equal(answers, offsets.length);
  assert.ok(checked >= records, `every record of slow was checked at least once (${checked})`);
});

test('a long-polling fetch that reads again as data trickles in answers with exactly the stored records', async (t) => {
  const { broker } = await startBroker(t);
  await broker.topics.create('trickle', 1);
  const producer = await RawClient.connect(broker.port);
  defer(t, () => producer.close());
  const reader = await RawClient.connect(broker.port);
  defer(t, () => reader.close());
  await fill(producer, 'trickle', 250); // one batch of about 256 KiB, so every read goes into a pool buffer
  // Wants more than will arrive: the fetch reads, finds too little, waits for the next append and reads again.
  const poll = reader.request(FetchApi, 11, { ...fetchRequest('trickle', 0), minBytes: 64 * 1024 * 1024, maxWaitMs: 1500 }, 20_000);
  for (let base = 250; base < 2000; base += 250) {
    await new Promise((r) => setTimeout(r, 50));
    const values = Array.from({ length: 250 }, (_, i) => Buffer.from(expectedValue('trickle', base + i)));
    const records = encodeRecordBatch({ records: values.map((value) => ({ key: null, value })) });
    const res = await producer.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'trickle', partitionData: [{ index: 0, records }] }] });
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
  }
  const res = await poll;
  const data = res.responses[0]!.partitions[0]!.records!;
  let count = 0;
  forEachRecord(data, 0, (buf, offset, _ts, start, length) => {
    assert.equal(buf.toString('utf8', start, start + length), expectedValue('trickle', offset));
    assert.equal(offset, count);
    count++;
  }, true);
  // 1 MiB of answer holds the first 3 or 4 whole batches of about 257 KiB, which arrived long before the wait ended.
  assert.ok(count >= 750 && count % 250 === 0, `the answer holds whole batches from the start (${count} records)`);
});
