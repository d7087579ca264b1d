// The lake sink against a real broker and a local lake: values, layout, rotation rules, dead letters, restarts.
import assert from 'node:assert/strict';
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { test } from 'node:test';
import { ProduceApi } from '../../src/kafka/apis/produce.ts';
import { computeBatchCrc, encodeRecordBatch } from '../../src/kafka/record-batch.ts';
import { parseDataFileName } from '../../src/sink/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { dataset, lakeFiles, order, queryLake, sinkEnv, startSink, until } from './helpers.ts';

const HOURS = ['2026-11-22T05:10:00Z', '2026-11-22T06:59:59.5Z', '2026-11-22T07:00:00+01:00', '2026-11-21T23:30:00-01:00'];

test('every processed record lands once in Parquet under golden/<topic>/YYYY/MM/DD/HH/ of its event time, values intact', async (t) => {
  const env = await sinkEnv(t, { partitions: 2 });
  const n = 1200;
  const values = Array.from({ length: n }, (_, i) => order(i, HOURS[i % HOURS.length]!, i % 2));
  await env.send(values.filter((_, i) => i % 2 === 0), 0);
  await env.send(values.filter((_, i) => i % 2 === 1), 1);
  const sink = await startSink(t, env, { rotation: { flushSize: 250, rotateScheduleIntervalMs: 300 } });
  await until(() => sink.counters.rowsCommitted === n, 30_000, () => `rows committed: ${sink.counters.rowsCommitted} of ${n}`);

  const files = await lakeFiles(env.root);
  const dirs = new Set(files.map((f) => f.slice(0, f.lastIndexOf('/') + 1)));
  // 07:00+01:00 is 06:00Z; 23:30-01:00 is 00:30Z the next day.
  assert.deepEqual([...dirs].sort(), [
    'golden/orders.processed/2026/11/22/00/',
    'golden/orders.processed/2026/11/22/05/',
    'golden/orders.processed/2026/11/22/06/',
  ]);
  for (const f of files) {
    const name = parseDataFileName(f);
    assert.ok(name !== null && name.topic === 'orders.processed' && name.codec === 'snappy', f);
  }

  const rows = await queryLake(
    env.root,
    `SELECT id, ts::VARCHAR ts, amount, big::VARCHAR big, paid, note, tags::VARCHAR tags, customer.name AS cname, customer.vip AS vip,
            _source_partition, _source_offset, file FROM lake ORDER BY id`,
  );
  assert.equal(rows.length, n);
  for (const [i, r] of rows.entries()) {
    const expected = JSON.parse(values[i]!) as Record<string, unknown>;
    assert.equal(Number(r.id), i);
    assert.equal(r.big, String(9007199254740993n + BigInt(i)), 'int64 past 2^53 intact');
    assert.equal(new Date(String(r.ts)).getTime(), Date.parse(expected.ts as string), `ts of ${i}`);
    assert.equal(r.amount, expected.amount);
    assert.equal(r.paid, expected.paid);
    assert.equal(r.note, expected.note);
    assert.equal(r.tags, JSON.stringify(expected.tags).replaceAll('"', '').replaceAll(',', ', '));
    assert.equal(r.cname, (expected.customer as { name: string }).name);
    assert.equal(r.vip, (expected.customer as { vip: boolean }).vip);
    assert.equal(Number(r._source_offset), i);
    const hour = new Date(Date.parse(expected.ts as string)).toISOString().slice(11, 13);
    assert.match(String(r.file), new RegExp(`/golden/orders\\.processed/2026/11/2[12]/${hour}/orders\\.processed\\+${i % 2}\\+\\d+\\+\\d+\\.snappy\\.parquet$`));
  }
  // Each file's name holds the Kafka offsets of its unit: every record's Kafka offset lies inside.
  const ranges = await queryLake(env.root, `SELECT file, count(*) AS n FROM lake GROUP BY file`);
  assert.ok(ranges.every((r) => Number(r.n) <= 250), 'no file holds more than flushSize records');
});

test('rotation: flushSize, the event-time span, and the wall clock on an idle topic each commit files', async (t) => {
  await t.test('flushSize', async (t) => {
    const env = await sinkEnv(t);
    await env.send(Array.from({ length: 100 }, (_, i) => order(i, '2026-11-22T05:00:00Z')));
    const sink = await startSink(t, env, { rotation: { flushSize: 30 } });
    // No wall-clock rule: 90 of 100 records are committed (three files of 30); 10 wait for more.
    await until(() => sink.counters.rowsCommitted === 90, 20_000, () => `rows committed: ${sink.counters.rowsCommitted}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.counters.rowsCommitted, 90);
    assert.equal((await lakeFiles(env.root)).length, 3);
    assert.deepEqual(sink.counters.commitsBy, { flushSize: 3 });
  });

  await t.test('rotateIntervalMs (event-time span)', async (t) => {
    const env = await sinkEnv(t);
    // Minutes 0, 1, … of one hour: with a 5-minute span rule a file closes once it holds minutes 0 to 5.
    await env.send(Array.from({ length: 20 }, (_, i) => order(i, `2026-11-22T05:${String(i).padStart(2, '0')}:00Z`)));
    const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateIntervalMs: 5 * 60_000 } });
    await until(() => sink.counters.rowsCommitted === 18, 20_000, () => `rows committed: ${sink.counters.rowsCommitted}`);
    const counts = await queryLake(env.root, 'SELECT count(*) AS n, max(epoch_ms(ts)) - min(epoch_ms(ts)) AS span FROM lake GROUP BY file ORDER BY min(id)');
    assert.deepEqual(counts.map((c) => Number(c.n)), [6, 6, 6]);
    assert.ok(counts.every((c) => Number(c.span) === 5 * 60_000));
    assert.deepEqual(sink.counters.commitsBy, { rotateInterval: 3 });
  });

  await t.test('rotateScheduleIntervalMs commits the last records of a topic that went quiet', async (t) => {
    const env = await sinkEnv(t);
    const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 400 } });
    await env.send(Array.from({ length: 7 }, (_, i) => order(i, '2026-11-22T05:00:00Z')));
    const sent = Date.now();
    await until(() => sink.counters.rowsCommitted === 7, 20_000, () => `rows committed: ${sink.counters.rowsCommitted}`);
    assert.ok(Date.now() - sent >= 300, 'not before the interval');
    assert.deepEqual(sink.counters.commitsBy, { rotateSchedule: 1 });
    // Later records go to a new file, committed by the same rule.
    await env.send([order(7, '2026-11-22T05:00:01Z')]);
    await until(() => sink.counters.rowsCommitted === 8, 20_000);
    assert.equal((await lakeFiles(env.root)).length, 2);
  });
});

test('records the sink cannot place go to the dead-letter topic with a code; the rest land', async (t) => {
  const env = await sinkEnv(t);
  const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 300 } });
  await env.send([
    order(0, '2026-11-22T05:00:00Z'),
    'not json',
    null,
    '{"id":2,"ts":"yesterday"}',
    '[1,2]',
    '{"id":99999999999999999999999,"ts":"2026-11-22T05:00:00Z"}',
    order(1, '2026-11-22T05:00:00Z'),
  ]);
  await until(() => sink.counters.rowsCommitted === 2 && Object.values(sink.counters.deadLettered).reduce((a, b) => a + b, 0) === 5, 20_000, () => JSON.stringify(sink.counters));
  assert.deepEqual(sink.counters.deadLettered, { OXBOW_SINK_NOT_JSON_OBJECT: 3, OXBOW_SINK_BAD_EVENT_TIME: 1, OXBOW_SINK_UNWRITABLE_RECORD: 1 });

  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'dlq-reader', groupId: `dlq-${Date.now()}`, bootstrapBrokers: [env.address] });
  t.after(() => consumer.close(true));
  const stream = await consumer.consume({ topics: [env.ds.topics.dlq], mode: 'earliest' });
  const seen: { code: string; offset: string; step: string }[] = [];
  for await (const m of stream) {
    const h = new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
    seen.push({ code: h.get('oxbow.error.code')!, offset: h.get('oxbow.source.offset')!, step: h.get('oxbow.step')! });
    if (seen.length === 5) break;
  }
  await stream.close();
  assert.deepEqual(seen.sort((a, b) => Number(a.offset) - Number(b.offset)), [
    { code: 'OXBOW_SINK_NOT_JSON_OBJECT', offset: '1', step: 'sink' },
    { code: 'OXBOW_SINK_NOT_JSON_OBJECT', offset: '2', step: 'sink' },
    { code: 'OXBOW_SINK_BAD_EVENT_TIME', offset: '3', step: 'sink' },
    { code: 'OXBOW_SINK_NOT_JSON_OBJECT', offset: '4', step: 'sink' },
    { code: 'OXBOW_SINK_UNWRITABLE_RECORD', offset: '5', step: 'sink' },
  ]);
  const rows = await queryLake(env.root, 'SELECT id FROM lake ORDER BY id');
  assert.deepEqual(rows.map((r) => Number(r.id)), [0, 1]);
});

test('a dead letter of the sink keeps the record as it came: key, value and headers, beside the reason', async (t) => {
  const env = await sinkEnv(t);
  const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 300 } });
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'dlq-source', bootstrapBrokers: [env.address], acks: ProduceAcks.ALL });
  t.after(() => producer.close());
  const value = Buffer.from('{"id":7,"ts":"not a time"}');
  await producer.send({
    messages: [{ topic: env.topic, partition: 0, key: Buffer.from('order-7'), value, headers: new Map([[Buffer.from('trace'), Buffer.from('abc-123')]]) }],
  });
  await until(() => sink.counters.deadLettered.OXBOW_SINK_BAD_EVENT_TIME === 1, 20_000, () => JSON.stringify(sink.counters));

  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'dlq-reader', groupId: `dlq-${Date.now()}`, bootstrapBrokers: [env.address] });
  t.after(() => consumer.close(true));
  const stream = await consumer.consume({ topics: [env.ds.topics.dlq], mode: 'earliest' });
  let letter: { key: string; value: string; headers: Map<string, string> } | null = null;
  for await (const m of stream) {
    letter = { key: m.key.toString(), value: m.value.toString(), headers: new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()])) };
    break;
  }
  await stream.close();
  assert.ok(letter !== null);
  assert.equal(letter.key, 'order-7');
  assert.equal(letter.value, value.toString());
  assert.equal(letter.headers.get('trace'), 'abc-123', 'the original header is kept');
  assert.equal(letter.headers.get('oxbow.error.code'), 'OXBOW_SINK_BAD_EVENT_TIME');
  assert.match(letter.headers.get('oxbow.error.message') ?? '', /event-time field "ts" is "not a time"/);
  assert.equal(letter.headers.get('oxbow.source.topic'), env.topic);
  assert.equal(letter.headers.get('oxbow.source.offset'), '0');
});

test('a stored batch whose record does not fit it: the sink keeps what came before, names the offset, keeps trying, and loses nothing', async (t) => {
  const env = await sinkEnv(t);
  const logs: string[] = [];
  const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 200 } }, logs);
  await env.send([order(0, '2026-11-22T05:00:00Z'), order(1, '2026-11-22T05:00:00Z')]);
  await until(() => sink.counters.rowsCommitted === 2, 20_000, () => JSON.stringify(sink.counters));
  // A producer's bug the broker cannot see: the CRC is right, but the record's length runs past its batch.
  const broken = encodeRecordBatch({ records: [{ key: null, value: order(2, '2026-11-22T05:00:00Z') }] });
  broken[61] = 0x7e; // zigzag 63: the record claims 63 bytes, its value then runs past them
  broken.writeUInt32BE(computeBatchCrc(broken, 0, broken.length), 17);
  const client = await RawClient.connect(env.broker.port);
  t.after(() => client.close());
  const res = await client.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: env.topic, partitionData: [{ index: 0, records: broken }] }] });
  assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0, 'the broker stores it');
  await env.send([order(3, '2026-11-22T05:00:00Z')]);
  await until(() => logs.filter((l) => /the records from offset 2 cannot be read/.test(l)).length >= 2, 20_000, () => logs.join('\n') + JSON.stringify(sink.counters));
  assert.match(logs.find((l) => /cannot be read/.test(l))!, /^partition 0: the records from offset 2 cannot be read \(record 0 of the batch at offset 2 [^)]+\); reading them again in \d+ ms$/);
  // Nothing past the batch is written as if it were not there, and the sink is still running.
  assert.equal(sink.counters.rowsCommitted, 2);
  const rows = await queryLake(env.root, 'SELECT id FROM lake ORDER BY id');
  assert.deepEqual(rows.map((r) => Number(r.id)), [0, 1]);
  assert.deepEqual(sink.pending(), [{ partition: 0, records: 0, doneOffset: 2 }]);
});

test('close commits open files; a restarted sink goes on from there without writing anything twice', async (t) => {
  const env = await sinkEnv(t, { partitions: 2 });
  const first = await startSink(t, env, { rotation: { flushSize: 1000 } });
  await env.send(Array.from({ length: 50 }, (_, i) => order(i, HOURS[i % 2]!)), 0);
  await env.send(Array.from({ length: 50 }, (_, i) => order(50 + i, HOURS[i % 2]!)), 1);
  await until(() => first.counters.recordsIn === 100, 20_000);
  await first.close();
  assert.equal(first.counters.rowsCommitted, 100);
  assert.deepEqual(first.counters.commitsBy, { close: 2 });

  await env.send(Array.from({ length: 30 }, (_, i) => order(100 + i, HOURS[2]!)), 0);
  const second = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 300 } });
  await until(() => second.counters.rowsCommitted === 30, 20_000, () => JSON.stringify(second.counters));
  const rows = await queryLake(env.root, 'SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM lake');
  assert.deepEqual(rows.map((r) => [Number(r.n), Number(r.d), Number(r.lo), Number(r.hi)]), [[130, 130, 0, 129]]);
});

test('a writer memory limit too small for a file: the sink names the setting, keeps the records, and a restart with more memory writes them once', async (t) => {
  const env = await sinkEnv(t, { partitions: 1 });
  const logs: string[] = [];
  const pad = 'p'.repeat(2000);
  for (let from = 0; from < 4000; from += 200) {
    await env.send(Array.from({ length: 200 }, (_, i) => order(from + i, HOURS[0]!).replace('"note":', `"pad":"${pad}","note":`)), 0);
  }
  const small = await startSink(t, env, { rotation: { flushSize: 4000 }, writerMemoryLimit: '1MB', closeTimeoutMs: 1000 }, logs);
  await until(() => logs.some((l) => /raise sink\.writerMemoryLimit \(now 1MB\) or lower sink\.flushSize; retrying in/.test(l)), 30_000, () => logs.join('\n'));
  const line = logs.find((l) => /writerMemoryLimit/.test(l))!;
  assert.match(line, /^partition 0: committing offsets 0–3999 failed: .*Out of Memory Error/);
  assert.doesNotMatch(line, /\n|SET threads/, 'one line, without statements the user cannot run');
  await small.close();
  assert.equal(small.counters.rowsCommitted, 0);

  const big = await startSink(t, env, { rotation: { flushSize: 4000 } });
  await until(() => big.counters.rowsCommitted === 4000, 30_000, () => JSON.stringify(big.counters));
  const rows = await queryLake(env.root, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM lake');
  assert.deepEqual(rows.map((r) => [Number(r.n), Number(r.d)]), [[4000, 4000]]);
});

test('a dataset without an event-time field partitions by the Kafka timestamp', async (t) => {
  const ds = dataset('clicks', { schema: { type: 'object', properties: { id: { type: 'integer' } } } });
  const env = await sinkEnv(t, { name: 'clicks', ds });
  const sink = await startSink(t, env, { rotation: { flushSize: 3 } });
  const before = new Date();
  await env.send(['{"id":1}', '{"id":2}', '{"id":3}']);
  await until(() => sink.counters.rowsCommitted === 3, 20_000);
  const [file] = await lakeFiles(env.root);
  const hour = `${before.toISOString().slice(0, 10).replaceAll('-', '/')}/${before.toISOString().slice(11, 13)}/`;
  assert.ok(file?.startsWith(`golden/clicks.processed/${hour}`) || before.getUTCMinutes() === 59, file);
});
