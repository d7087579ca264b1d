// Large produce requests are assembled in reused buffers (src/broker/frame-pool.ts); a buffer goes back only after its
// request is answered, so requests in flight on one connection never see each other's bytes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProduceApi } from '../../src/kafka/apis/produce.ts';
import { encodeRecordBatch } from '../../src/kafka/record-batch.ts';
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
