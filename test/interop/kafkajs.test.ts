// KafkaJS 2.2.4 (non-flexible protocol versions, separate fetch connection) against the embedded broker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { eventually, startBroker, defer } from '../helpers/broker.ts';

function kafka(address: string, clientId: string) {
  return new Kafka({ clientId, brokers: [address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

async function produceRange(k: Kafka, topic: string, from: number, to: number) {
  const producer = k.producer();
  await producer.connect();
  try {
    for (let i = from; i < to; i += 500) {
      const messages = [];
      for (let j = i; j < Math.min(to, i + 500); j++) messages.push({ key: `k${j % 31}`, value: `v${j}`, headers: { seq: String(j) } });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

test('KafkaJS admin creates topics on the controller and lists them', async (t) => {
  const { broker, address } = await startBroker(t);
  const admin = kafka(address, 'kjs-admin').admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs.admin', numPartitions: 3 }] }), true);
  assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs.admin', numPartitions: 3 }] }), false);
  assert.equal(broker.topics.get('kjs.admin')!.partitions.length, 3);
  assert.ok((await admin.listTopics()).includes('kjs.admin'));
  const offsets = await admin.fetchTopicOffsets('kjs.admin');
  assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '0', '0'], [1, '0', '0'], [2, '0', '0']]);
});

test('KafkaJS produces and consumes from explicit offsets (seek)', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('kjs.seek', 1);
  const k = kafka(address, 'kjs-seek');
  await produceRange(k, 'kjs.seek', 0, 2000);
  const consumer = k.consumer({ groupId: 'kjs-seek', sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
  await consumer.connect();
  defer(t, () => consumer.disconnect());
  await consumer.subscribe({ topic: 'kjs.seek' });
  const seen: number[] = [];
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      seen.push(Number(message.offset));
      assert.equal(message.value!.toString(), `v${message.offset}`);
    },
  });
  consumer.seek({ topic: 'kjs.seek', partition: 0, offset: '1500' });
  await eventually(() => (seen.length >= 500 ? true : undefined), 20_000, '500 records from offset 1500');
  assert.equal(seen[0], 1500);
  assert.deepEqual(seen.slice(0, 500), Array.from({ length: 500 }, (_, i) => 1500 + i));
});

test('KafkaJS: a group of three shares the partitions and every record is delivered once, across a member leaving', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('kjs.group', 6);
  const k = kafka(address, 'kjs-group');
  const delivered = new Map<string, number>();
  const consumers: Consumer[] = [];
  for (let i = 0; i < 3; i++) {
    const c = k.consumer({ groupId: 'kjs-group', sessionTimeout: 10_000, heartbeatInterval: 300, rebalanceTimeout: 15_000, maxWaitTimeInMs: 200 });
    await c.connect();
    await c.subscribe({ topic: 'kjs.group', fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        const v = message.value!.toString();
        delivered.set(v, (delivered.get(v) ?? 0) + 1);
      },
    });
    consumers.push(c);
  }
  defer(t, async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
  });
  await eventually(() => {
    const d = broker.groups.describeGroup('kjs-group');
    return d.state === 'Stable' && d.members.length === 3 && d.members.every((m) => m.assignment.length > 0) ? true : undefined;
  }, 30_000, 'three members in a stable group');
  await produceRange(k, 'kjs.group', 0, 3000);
  await eventually(() => (delivered.size === 3000 ? true : undefined), 30_000, 'first 3000 records');
  // Tools see the group: listed, and described with its three members and their assignments.
  const admin = k.admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  assert.deepEqual((await admin.listGroups()).groups.map((g) => [g.groupId, g.protocolType]), [['kjs-group', 'consumer']]);
  const described = (await admin.describeGroups(['kjs-group'])).groups[0]!;
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocol, 'RoundRobinAssigner');
  assert.equal(described.members.length, 3);
  assert.ok(described.members.every((m) => m.memberAssignment.length > 0 && m.clientId === 'kjs-group'));
  const committedTotal = () => broker.groups.fetchOffsets('kjs-group', null).reduce((n, o) => n + Math.max(0, o.offset), 0);
  await eventually(() => (committedTotal() === 3000 ? true : undefined), 20_000, 'commits of the first 3000');
  await consumers[2]!.disconnect(); // LeaveGroup; its partitions move to the other two
  await eventually(() => {
    const d = broker.groups.describeGroup('kjs-group');
    return d.state === 'Stable' && d.members.length === 2 ? true : undefined;
  }, 30_000, 'group rebalanced to two members');
  await produceRange(k, 'kjs.group', 3000, 6000);
  await eventually(() => (delivered.size === 6000 ? true : undefined), 30_000, 'all 6000 records');
  assert.deepEqual([...delivered].filter(([, n]) => n > 1), [], 'no record delivered twice');
});
