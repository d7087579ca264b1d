// Durability: acknowledged records and committed offsets survive a clean restart, and a kill -9 in the middle of a
// steady acks=all produce stream loses nothing that was acknowledged and leaves contiguous, CRC-clean logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { Broker } from '../../src/broker/index.ts';
import { resolveConfig } from '../../src/config/index.ts';
import { decodeRecords, readBatchHeader, validateBatches } from '../../src/kafka/record-batch.ts';
import { run, spawnBroker, startBroker, tempDir } from '../helpers/broker.ts';

/** Every batch of a partition, validated; returns values by offset. */
async function readPartition(broker: Broker, topic: string, partition: number): Promise<{ values: Map<number, string>; offsets: number[] }> {
  const log = broker.topics.get(topic)!.partitions[partition]!;
  const values = new Map<number, string>();
  const offsets: number[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records } = await log.read(next, 1 << 20);
    assert.ok(records.length > 0, `no data at offset ${next} below the end ${log.logEndOffset}`);
    const checked = validateBatches(Buffer.from(records), { maxMessageBytes: 1 << 30, allowZstd: true });
    assert.ok(checked.ok, `stored batches fail validation: ${checked.ok ? '' : checked.message}`);
    for (let pos = 0; pos + 61 <= records.length; ) {
      const h = readBatchHeader(records, pos);
      for (const r of await decodeRecords(records.subarray(pos, pos + h.byteLength))) {
        if (r.offset < next) continue;
        offsets.push(r.offset);
        values.set(r.offset, r.value!.toString());
        next = r.offset + 1;
      }
      pos += h.byteLength;
    }
  }
  return { values, offsets };
}

test('records and committed offsets survive a clean restart', async (t) => {
  const dir = await tempDir(t);
  const first = await startBroker(t, {}, dir);
  await first.broker.topics.create('restart', 2);
  const lines = Array.from({ length: 1000 }, (_, i) => `${i % 7}:r${i}`);
  await run('kcat', ['-b', first.address, '-P', '-t', 'restart', '-K', ':', '-X', 'acks=all'], { input: `${lines.join('\n')}\n` });
  await run('kcat', ['-b', first.address, '-G', 'restart-group', '-X', 'auto.offset.reset=earliest', '-c', '1000', 'restart'], { timeoutMs: 60_000 });
  const committedBefore = first.broker.groups.fetchOffsets('restart-group', null);
  await first.broker.close();

  const second = await startBroker(t, {}, dir);
  assert.deepEqual(second.broker.groups.fetchOffsets('restart-group', null), committedBefore);
  const { stdout } = await run('kcat', ['-b', second.address, '-C', '-t', 'restart', '-o', 'beginning', '-e', '-f', '%k:%s\n']);
  assert.deepEqual(stdout.toString().split('\n').slice(0, -1).sort(), [...lines].sort());
  // The group resumes where it left off: nothing new to read.
  const committedTotal = second.broker.groups.fetchOffsets('restart-group', null).reduce((n, o) => n + o.offset, 0);
  assert.equal(committedTotal, 1000);
});

test('kill -9 during a steady acks=all produce stream loses no acknowledged record (3 crashes at random moments)', async (t) => {
  const dir = await tempDir(t);
  const acked = new Map<string, number>(); // value -> offset the broker acknowledged
  for (let cycle = 0; cycle < 3; cycle++) {
    const proc = await spawnBroker(t, ['--port', '0', '--data-dir', dir]);
    const producer = new Producer({
      clientId: `crash-${cycle}`, bootstrapBrokers: [proc.address], serializers: stringSerializers,
      acks: ProduceAcks.ALL, retries: 0, autocreateTopics: true,
    });
    let stop = false;
    let sent = 0;
    const loop = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const messages = Array.from({ length: 50 }, (_, j) => ({ topic: 'crash', partition: 0, value: `c${cycle}-${i}-${j}` }));
        let res;
        try {
          res = await producer.send({ messages });
        } catch {
          return; // the broker is gone
        }
        const base = Number(res.offsets![0]!.offset); // the base offset of the batch
        messages.forEach((m, j) => acked.set(m.value, base + j));
        sent++;
      }
    })();
    const delay = 300 + Math.floor(Math.random() * 1200);
    await new Promise((r) => setTimeout(r, delay));
    proc.child.kill('SIGKILL');
    await proc.exited;
    stop = true;
    await loop;
    await producer.close().catch(() => undefined);
    assert.ok(sent > 0, `cycle ${cycle}: nothing was acknowledged before the kill after ${delay} ms`);

    // Restart on the same directory: recovery must keep every acknowledged record at its offset.
    const config = resolveConfig({ broker: { port: 0, dataDir: dir } });
    const broker = await Broker.start(config.broker, { log: () => undefined });
    try {
      const { values, offsets } = await readPartition(broker, 'crash', 0);
      offsets.forEach((o, i) => assert.equal(o, i, 'offsets are contiguous from 0'));
      for (const [value, offset] of acked) assert.equal(values.get(offset), value, `acknowledged ${value} at offset ${offset}`);
    } finally {
      await broker.close();
    }
  }
  assert.ok(acked.size >= 150);
});
