// `oxbow dlq inspect` and `oxbow dlq redrive` as a user runs them, against a real broker with dead letters written
// directly: counts by code with samples; redrive puts the original records back on raw, once, optionally one code only.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Admin, ListOffsetTimestamps, ProduceAcks, Producer } from '@platformatic/kafka';
import { defer, startBroker, type TestBroker } from '../helpers/broker.ts';
import { DeadLetterHeader, redriveGroupId } from '../../src/stream/index.ts';
import { lakeConfig, oxbow, oxbowOk } from './oxbow-cli.ts';

type Letter = { partition: number; key: string; value: string; code: string; step: string; message: string };

const LETTERS: Letter[] = [
  { partition: 0, key: 'k1', value: '{"id":', code: 'OXBOW_STREAM_INVALID_JSON', step: 'parse', message: 'Unexpected end of JSON input' },
  { partition: 1, key: 'k2', value: 'not json', code: 'OXBOW_STREAM_INVALID_JSON', step: 'parse', message: 'Unexpected token' },
  { partition: 0, key: 'k3', value: `{"id":"${'x'.repeat(400)}`, code: 'OXBOW_STREAM_INVALID_JSON', step: 'parse', message: 'Unterminated string' },
  { partition: 1, key: 'k4', value: 'nope', code: 'OXBOW_STREAM_INVALID_JSON', step: 'parse', message: 'Unexpected token n' },
  { partition: 0, key: 'k5', value: '{"id":"o-5","amount":-1}', code: 'OXBOW_STREAM_SCHEMA_VIOLATION', step: 'validate', message: '/amount must be >= 0' },
  { partition: 1, key: 'k6', value: '{"id":"o-6"}', code: 'OXBOW_STREAM_SCHEMA_VIOLATION', step: 'validate', message: '/amount is required' },
  { partition: 0, key: 'k7', value: '{"id":"o-7","country_code":"XX"}', code: 'OXBOW_STREAM_LOOKUP_MISS', step: 'country', message: 'no row for "XX"' },
];

/** orders.raw and orders.dlq with 2 partitions each; a producer that writes dead letters as the stream job would. */
async function lake(t: TestContext, b: TestBroker) {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [b.address] });
  defer(t, () => admin.close());
  await admin.createTopics({ topics: ['orders.raw', 'orders.dlq'], partitions: 2, replicas: 1 });
  const producer = new Producer({ clientId: 'test-producer', bootstrapBrokers: [b.address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const send = (letters: Letter[]) =>
    producer.send({
      messages: letters.map((l) => ({
        topic: 'orders.dlq',
        partition: l.partition,
        key: Buffer.from(l.key),
        value: Buffer.from(l.value),
        headers: new Map<Buffer, Buffer>([
          [Buffer.from('trace'), Buffer.from(`t-${l.key}`)],
          [Buffer.from(DeadLetterHeader.CODE), Buffer.from(l.code)],
          [Buffer.from(DeadLetterHeader.MESSAGE), Buffer.from(l.message)],
          [Buffer.from(DeadLetterHeader.SOURCE_TOPIC), Buffer.from('orders.raw')],
          [Buffer.from(DeadLetterHeader.SOURCE_PARTITION), Buffer.from(String(l.partition))],
          [Buffer.from(DeadLetterHeader.SOURCE_OFFSET), Buffer.from('0')],
          [Buffer.from(DeadLetterHeader.DATASET), Buffer.from('orders')],
          [Buffer.from(DeadLetterHeader.STEP), Buffer.from(l.step)],
          [Buffer.from(DeadLetterHeader.TIME), Buffer.from(new Date().toISOString())],
        ]),
      })),
    });
  const rawCount = async () => {
    const listed = await admin.listOffsets({ topics: [{ name: 'orders.raw', partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.LATEST })) }] });
    return listed.flatMap((x) => x.partitions).reduce((n, p) => n + Number(p.offset), 0);
  };
  return { admin, send, rawCount };
}

type Consumed = { key: string | null; value: string | null; headers: Record<string, string> };

async function readRaw(b: TestBroker, count: number): Promise<Consumed[]> {
  const out = await oxbowOk(['consume', 'orders.raw', '--from-beginning', '--max', String(count), '--brokers', b.address]);
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Consumed);
}

test('dlq inspect counts dead letters by code with the step and up to 3 samples, values cut short', async (t) => {
  const b = await startBroker(t);
  const { send } = await lake(t, b);
  await send(LETTERS);
  const { file } = await lakeConfig(t, ['orders']);

  const out = await oxbowOk(['dlq', 'inspect', 'orders', '--brokers', b.address, '--config', file]);
  assert.match(out, /^orders\.dlq: 7 dead letter\(s\), 7 read\n/);
  assert.match(out, /^OXBOW_STREAM_INVALID_JSON +4 +step parse$/m);
  assert.match(out, /^OXBOW_STREAM_SCHEMA_VIOLATION +2 +step validate$/m);
  assert.match(out, /^OXBOW_STREAM_LOOKUP_MISS +1 +step country$/m);
  const invalidJson = out.slice(out.indexOf('OXBOW_STREAM_INVALID_JSON'), out.indexOf('OXBOW_STREAM_SCHEMA_VIOLATION'));
  assert.equal(invalidJson.match(/^ {2}partition \d offset \d/gm)?.length, 3, 'three samples of four');
  assert.match(out, /partition 0 offset 2 +\/amount must be >= 0\n {4}value: \{"id":"o-5","amount":-1\}\n/);
  assert.match(out, / {4}value: \{"id":"x{100,}…\n/, 'a long value is cut');
  assert.ok(!out.includes('x'.repeat(300)));

  const two = await oxbowOk(['dlq', 'inspect', 'orders', '--max', '2', '--brokers', b.address, '--config', file]);
  assert.match(two, /^orders\.dlq: 7 dead letter\(s\), 2 read\n/);

  const badCode = await oxbow(['dlq', 'inspect', 'orders', '--code', 'X', '--brokers', b.address, '--config', file]);
  assert.equal(badCode.code, 2);
  assert.match(badCode.stderr, /--code applies to dlq redrive only/);
});

test('dlq redrive puts records back on raw with their key, value and original headers, once; --code sends one code', async (t) => {
  const b = await startBroker(t);
  const { send, rawCount } = await lake(t, b);
  await send(LETTERS);
  const { file } = await lakeConfig(t, ['orders']);
  const redrive = (...extra: string[]) => oxbowOk(['dlq', 'redrive', 'orders', ...extra, '--brokers', b.address, '--config', file]);

  const misses = await redrive('--code', 'OXBOW_STREAM_LOOKUP_MISS');
  assert.match(misses, /^redrove 1 dead letter\(s\) from orders\.dlq to orders\.raw \(code OXBOW_STREAM_LOOKUP_MISS\)\n {2}OXBOW_STREAM_LOOKUP_MISS\t1\n {2}skipped 6: other codes\n/);
  assert.equal(await rawCount(), 1);
  const [first] = await readRaw(b, 1);
  assert.deepEqual(first, { ...first, key: 'k7', value: '{"id":"o-7","country_code":"XX"}', headers: { trace: 't-k7' } }, 'original headers only');
  assert.equal((await redrive('--code', 'OXBOW_STREAM_LOOKUP_MISS')).split('\n')[0], 'redrove 0 dead letter(s) from orders.dlq to orders.raw (code OXBOW_STREAM_LOOKUP_MISS)');

  const some = await redrive('--max', '2');
  assert.match(some, /^redrove 2 dead letter\(s\)/);
  const rest = await redrive();
  assert.match(rest, /^redrove 4 dead letter\(s\) from orders\.dlq to orders\.raw\n/);
  assert.match(rest, /skipped 1: already sent by redrive --code/, 'the lookup miss is not sent twice');
  assert.equal(await rawCount(), 7);
  const all = await readRaw(b, 7);
  assert.deepEqual(all.map((r) => r.key).sort(), LETTERS.map((l) => l.key).sort(), 'every dead letter once');
  for (const r of all) {
    const letter = LETTERS.find((l) => l.key === r.key)!;
    assert.equal(r.value, letter.value);
    assert.deepEqual(r.headers, { trace: `t-${letter.key}` });
  }

  assert.match(await redrive(), /^redrove 0 dead letter\(s\)/, 'a second redrive sends nothing new');
  assert.equal(await rawCount(), 7);
  const committed = b.broker.groups.fetchOffsets(redriveGroupId('orders'), [{ topic: 'orders.dlq', partitions: [0, 1] }]).map((r) => r.offset);
  assert.deepEqual(committed, [4, 3]);

  await send([{ partition: 1, key: 'k8', value: '[]', code: 'OXBOW_STREAM_NOT_AN_OBJECT', step: 'parse', message: 'not an object' }]);
  const late = await redrive();
  assert.match(late, /^redrove 1 dead letter\(s\) from orders\.dlq to orders\.raw\n {2}OXBOW_STREAM_NOT_AN_OBJECT\t1\n/);
  assert.equal(await rawCount(), 8);
});
