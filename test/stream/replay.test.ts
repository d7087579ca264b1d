// `oxbow stream replay` and `oxbow stream status` as a user runs them, against a real broker: the committed offsets the
// broker holds move to the log start, a time or an offset; an active group is refused; status shows lag and workers.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Admin, Consumer, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { defer, eventually, startBroker, type TestBroker } from '../helpers/broker.ts';
import { streamGroupId, streamStatusPath } from '../../src/stream/index.ts';
import { lakeConfig, oxbow, oxbowOk } from './oxbow-cli.ts';

const JANUARY = Date.parse('2024-01-01T00:00:00Z');
const JUNE = Date.parse('2024-06-01T00:00:00Z');
const GROUP = streamGroupId('orders');

/** orders.raw with 2 partitions of 10 records each: offsets 0–4 stamped in January, 5–9 in June. */
async function ordersRaw(t: TestContext, b: TestBroker): Promise<Admin> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [b.address] });
  defer(t, () => admin.close());
  await admin.createTopics({ topics: ['orders.raw'], partitions: 2, replicas: 1 });
  const producer = new Producer({ clientId: 'test-producer', bootstrapBrokers: [b.address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const messages = [0, 1].flatMap((partition) =>
    Array.from({ length: 10 }, (_, i) => ({ topic: 'orders.raw', partition, key: `k${i}`, value: JSON.stringify({ i }), timestamp: BigInt(i < 5 ? JANUARY + i : JUNE + i) })),
  );
  await producer.send({ messages });
  return admin;
}

function committed(b: TestBroker): number[] {
  return b.broker.groups.fetchOffsets(GROUP, [{ topic: 'orders.raw', partitions: [0, 1] }]).map((r) => r.offset);
}

test('stream replay moves the committed offsets of oxbow.stream.<dataset> to earliest, a time or an offset, and says what moved', async (t) => {
  const b = await startBroker(t);
  const admin = await ordersRaw(t, b);
  const { file } = await lakeConfig(t, ['orders']);
  const cli = (from: string) => oxbowOk(['stream', 'replay', 'orders', '--from', from, '--brokers', b.address, '--config', file]);

  await admin.alterConsumerGroupOffsets({ groupId: GROUP, topics: [{ name: 'orders.raw', partitionOffsets: [{ partition: 0, offset: 10n }, { partition: 1, offset: 8n }] }] });
  assert.deepEqual(committed(b), [10, 8]);

  const earliest = await cli('earliest');
  assert.deepEqual(committed(b), [0, 0]);
  assert.match(earliest, /replayed orders\.raw for group oxbow\.stream\.orders/);
  assert.match(earliest, /partition 0\t10 → 0\n/);
  assert.match(earliest, /partition 1\t8 → 0\n/);

  const march = await cli('2024-03-01T00:00:00Z');
  assert.deepEqual(committed(b), [5, 5], 'the first record at or after the time');
  assert.match(march, /partition 0\t0 → 5\n/);

  const later = await cli('2025-01-01');
  assert.deepEqual(committed(b), [10, 10], 'no record at or after the time: the log end');
  assert.match(later, /no record at or after that time/);

  await cli('7');
  assert.deepEqual(committed(b), [7, 7]);
  const clamped = await cli('100');
  assert.deepEqual(committed(b), [10, 10]);
  assert.match(clamped, /partition 1\t7 → 10\t\(offset 100 is past the log end: clamped to 10\)/);
});

test('stream replay refuses while a worker is in the group, and leaves the offsets alone', async (t) => {
  const b = await startBroker(t);
  const admin = await ordersRaw(t, b);
  const { file } = await lakeConfig(t, ['orders']);
  await admin.alterConsumerGroupOffsets({ groupId: GROUP, topics: [{ name: 'orders.raw', partitionOffsets: [{ partition: 0, offset: 9n }, { partition: 1, offset: 9n }] }] });

  const member = new Consumer({ clientId: 'oxbow-stream-test', groupId: GROUP, bootstrapBrokers: [b.address], maxWaitTime: 200 });
  defer(t, () => member.close(true));
  const stream = await member.consume({ topics: ['orders.raw'], mode: 'committed', autocommit: false });
  defer(t, () => stream.close());
  await eventually(async () => ((await admin.describeGroups({ groups: [GROUP] })).get(GROUP)?.state === 'Stable' ? true : undefined), 20_000, 'the member to join');

  const refused = await oxbow(['stream', 'replay', 'orders', '--from', 'earliest', '--brokers', b.address, '--config', file]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /group oxbow\.stream\.orders is Stable with 1 active member\(s\): oxbow-stream-test@/);
  assert.match(refused.stderr, /stop the workers, replay, start them again \[OXBOW_STREAM_GROUP_ACTIVE\]/);
  assert.deepEqual(committed(b), [9, 9]);

  // The status of the same moment: lag per partition, the group and its member.
  const status = await oxbowOk(['stream', 'status', '--brokers', b.address, '--config', file]);
  assert.match(status, /orders: raw orders\.raw, group oxbow\.stream\.orders Stable with 1 member\(s\)/);
  assert.match(status, /^ {2}0 +9 +10 +1 +oxbow-stream-test@/m);
  assert.match(status, /total lag 2/);

  await stream.close();
  await member.close(true);
  await eventually(async () => ((await admin.describeGroups({ groups: [GROUP] })).get(GROUP)?.members.size === 0 ? true : undefined), 20_000, 'the member to leave');
  await oxbowOk(['stream', 'replay', 'orders', '--from', 'earliest', '--brokers', b.address, '--config', file]);
  assert.deepEqual(committed(b), [0, 0], 'stopped workers: replay goes through');
});

test('stream status shows each worker from its status file, live or stale, with its counters', async (t) => {
  const b = await startBroker(t);
  await ordersRaw(t, b);
  const { file, stateDir } = await lakeConfig(t, ['orders', 'clicks']);
  await mkdir(path.join(stateDir, 'orders'), { recursive: true });
  const worker = (workerId: string, updatedAt: Date) => ({
    workerId,
    pid: 4242,
    dataset: 'orders',
    startedAt: new Date(JANUARY).toISOString(),
    updatedAt: updatedAt.toISOString(),
    assignments: [{ topic: 'orders.raw', partitions: [0, 1] }],
    counters: { recordsIn: 20, processed: 15, filtered: { 'no-test': 3 }, deadLettered: { OXBOW_STREAM_INVALID_JSON: 2 } },
  });
  await writeFile(streamStatusPath(stateDir, 'orders', 'w-live'), JSON.stringify(worker('w-live', new Date())));
  await writeFile(streamStatusPath(stateDir, 'orders', 'w-gone'), JSON.stringify(worker('w-gone', new Date(Date.now() - 60_000))));

  const out = await oxbowOk(['stream', 'status', '--brokers', b.address, '--config', file]);
  assert.match(out, /orders: raw orders\.raw, group oxbow\.stream\.orders (Empty|Dead) with 0 member\(s\)/);
  assert.match(out, /^ {2}1 +none +10 +10 +-$/m, 'nothing committed: all of the log is lag');
  assert.match(out, /^ {4}w-live +4242 +\d+s ago +live +20 +15 +3 +2 +orders\.raw:0,1$/m);
  assert.match(out, /^ {4}w-gone +4242 +6\ds ago +stale /m);
  assert.match(out, /w-live dead-lettered: OXBOW_STREAM_INVALID_JSON=2/);
  assert.match(out, /clicks: raw topic clicks\.raw does not exist yet/);

  const one = await oxbowOk(['stream', 'status', 'clicks', '--brokers', b.address, '--config', file]);
  assert.doesNotMatch(one, /orders/);
  const unknown = await oxbow(['stream', 'status', 'nope', '--brokers', b.address, '--config', file]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown dataset "nope"; configured: orders, clicks/);
  const badFrom = await oxbow(['stream', 'replay', 'orders', '--from', 'yesterday', '--brokers', b.address, '--config', file]);
  assert.equal(badFrom.code, 2);
  assert.match(badFrom.stderr, /--from: "yesterday" is not allowed/);
});
