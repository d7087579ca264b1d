// Retention deletes whole old segments, by size and by age, and consumers then start from the new earliest offset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { run, startBroker, defer } from '../helpers/broker.ts';

test('retention by size deletes old segments and the earliest offset moves forward', async (t) => {
  const { broker, address } = await startBroker(t, { segmentBytes: 16 * 1024, retentionBytes: 64 * 1024 });
  const lines = Array.from({ length: 4000 }, (_, i) => `record-${i}-${'p'.repeat(40)}`);
  // Small batches so that the log rolls into many segments.
  await run('kcat', ['-b', address, '-P', '-t', 'sized', '-X', 'batch.num.messages=50', '-X', 'linger.ms=0'], { input: `${lines.join('\n')}\n` });
  const log = broker.topics.get('sized')!.partitions[0]!;
  assert.equal(log.logEndOffset, 4000);
  assert.equal(log.logStartOffset, 0);
  const deleted = await broker.topics.applyRetention();
  assert.ok(deleted > 0, 'some segments were deleted');
  assert.ok(log.logStartOffset > 0, 'log start moved');
  assert.ok(log.sizeBytes <= 64 * 1024 + 16 * 1024 + 4096, `partition holds ${log.sizeBytes} bytes`);

  // A real client sees the new earliest offset, and reading from the beginning starts there.
  const { stdout } = await run('kcat', ['-b', address, '-Q', '-t', 'sized:0:-2']);
  assert.match(stdout.toString(), new RegExp(`sized \\[0\\] offset ${log.logStartOffset}\\b`));
  const { stdout: consumed } = await run('kcat', ['-b', address, '-C', '-t', 'sized', '-o', 'beginning', '-e', '-f', '%o %s\n']);
  const rows = consumed.toString().split('\n').slice(0, -1);
  assert.equal(rows[0], `${log.logStartOffset} ${lines[log.logStartOffset]}`);
  assert.equal(rows.length, 4000 - log.logStartOffset);
});

test('retention by time deletes segments whose records are older than retention.ms', async (t) => {
  const { broker, address } = await startBroker(t, { segmentBytes: 8 * 1024 });
  await broker.topics.create('aged', 1, { 'retention.ms': 3_600_000 });
  const producer = new Producer({ clientId: 'aged', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const dayAgo = BigInt(Date.now() - 86_400_000);
  for (let i = 0; i < 40; i++) {
    await producer.send({ messages: Array.from({ length: 20 }, (_, j) => ({ topic: 'aged', value: `old-${i}-${j}-${'o'.repeat(30)}`, timestamp: dayAgo })) });
  }
  for (let i = 0; i < 5; i++) {
    await producer.send({ messages: Array.from({ length: 20 }, (_, j) => ({ topic: 'aged', value: `new-${i}-${j}` })) });
  }
  const log = broker.topics.get('aged')!.partitions[0]!;
  await broker.topics.applyRetention();
  assert.ok(log.logStartOffset >= 700, `old segments deleted, log starts at ${log.logStartOffset}`);
  const consumer = new Consumer({ clientId: 'aged-c', groupId: 'aged-g', bootstrapBrokers: [address], deserializers: stringDeserializers });
  defer(t, () => consumer.close(true));
  const earliest = await consumer.listOffsets({ topics: ['aged'], timestamp: -2n });
  assert.equal(Number(earliest.get('aged')![0]), log.logStartOffset);
  // New records (written after the old ones) are all still there.
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', 'aged', '-o', 'beginning', '-e', '-f', '%s\n']);
  assert.equal(stdout.toString().split('\n').filter((l) => l.startsWith('new-')).length, 100);
});
