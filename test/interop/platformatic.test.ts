// @platformatic/kafka (Oxbow's own client, flexible protocol versions) against the embedded broker:
// admin, produce, consume by assignment (no group), and a group of three members with one leaving.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Admin, Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { eventually, startBroker, defer } from '../helpers/broker.ts';

function producerFor(address: string, t: TestContext) {
  const p = new Producer({ clientId: 'pf-producer', bootstrapBrokers: [address], serializers: stringSerializers, acks: ProduceAcks.ALL });
  defer(t, () => p.close());
  return p;
}

async function produceRange(p: Producer<string, string, string, string>, topic: string, from: number, to: number) {
  for (let i = from; i < to; i += 500) {
    const messages = [];
    for (let j = i; j < Math.min(to, i + 500); j++) messages.push({ topic, key: `k${j % 31}`, value: `v${j}`, headers: { seq: String(j) } });
    await p.send({ messages });
  }
}

test('platformatic admin creates, describes and deletes topics', async (t) => {
  const { broker, address } = await startBroker(t);
  const admin = new Admin({ clientId: 'pf-admin', bootstrapBrokers: [address] });
  defer(t, () => admin.close());
  const created = await admin.createTopics({ topics: ['pf.admin'], partitions: 4, replicas: 1, configs: [{ name: 'retention.ms', value: '3600000' }] });
  assert.equal(created[0]!.partitions, 4);
  assert.equal(broker.topics.get('pf.admin')!.partitions.length, 4);
  assert.equal(broker.topics.get('pf.admin')!.config['retention.ms'], 3_600_000);
  await assert.rejects(admin.createTopics({ topics: ['pf.admin'], partitions: 1, replicas: 1 }), /already exists/i);
  const md = await admin.metadata({ topics: ['pf.admin'] });
  assert.equal(md.topics.get('pf.admin')!.partitionsCount, 4);
  assert.ok((await admin.listTopics()).includes('pf.admin'));
  await admin.deleteTopics({ topics: ['pf.admin'] });
  assert.equal(broker.topics.get('pf.admin'), undefined);
});

test('platformatic produces and consumes by assignment (fetch from explicit offsets, no group)', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('pf.assign', 2);
  const p = producerFor(address, t);
  await produceRange(p, 'pf.assign', 0, 3000);
  const consumer = new Consumer({ clientId: 'pf-assign', groupId: 'unused', bootstrapBrokers: [address], deserializers: stringDeserializers });
  defer(t, () => consumer.close(true));
  const offsets = await consumer.listOffsets({ topics: ['pf.assign'], timestamp: -2n });
  assert.deepEqual([...offsets.get('pf.assign')!].map(Number), [0, 0]);
  const latest = await consumer.listOffsets({ topics: ['pf.assign'] });
  const ends = [...latest.get('pf.assign')!].map(Number);
  assert.equal(ends[0]! + ends[1]!, 3000);
  const seen: string[] = [];
  for (const partition of [0, 1]) {
    let offset = 0n;
    while (offset < BigInt(ends[partition]!)) {
      const res = await consumer.fetch({
        node: 1,
        maxWaitTime: 100,
        topics: [{ topicId: 'pf.assign', partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 64 * 1024, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1n }] }],
      } as never);
      const part = res.responses[0]!.partitions[0]!;
      assert.equal(part.errorCode, 0);
      for (const batch of part.records ?? []) {
        for (const r of batch.records) {
          const o = batch.firstOffset + BigInt(r.offsetDelta);
          if (o < offset) continue; // a batch may start before the requested offset
          seen.push(r.value!.toString());
          offset = o + 1n;
        }
      }
    }
  }
  assert.equal(seen.length, 3000);
  assert.equal(new Set(seen).size, 3000);
});

test('platformatic: a group of three shares the partitions and every record is delivered once, across a member leaving', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('pf.group', 6);
  const p = producerFor(address, t);
  const delivered = new Map<string, number>();
  const consumers: Consumer<string, string, string, string>[] = [];
  const streams: { close: () => Promise<void> }[] = [];
  for (let i = 0; i < 3; i++) {
    const c = new Consumer({
      clientId: `pf-member-${i}`, groupId: 'pf-group', bootstrapBrokers: [address], deserializers: stringDeserializers,
      sessionTimeout: 10_000, heartbeatInterval: 300, rebalanceTimeout: 15_000, maxWaitTime: 200,
    });
    consumers.push(c);
    const stream = await c.consume({ topics: ['pf.group'], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    streams.push(stream);
    stream.on('data', (m) => {
      delivered.set(m.value, (delivered.get(m.value) ?? 0) + 1);
      void m.commit();
    });
  }
  defer(t, async () => {
    for (const c of consumers) await c.close(true).catch(() => undefined);
  });
  await eventually(() => {
    const d = broker.groups.describeGroup('pf-group');
    return d.state === 'Stable' && d.members.length === 3 ? true : undefined;
  }, 30_000, 'three members in a stable group');
  // A fetch parked before the rebalance (up to maxWaitTime) may still answer for the member's old partitions, and
  // this client delivers what it returns; let those long polls run out before producing.
  await new Promise((r) => setTimeout(r, 500));
  await produceRange(p, 'pf.group', 0, 3000);
  await eventually(() => (delivered.size === 3000 ? true : undefined), 30_000, 'first 3000 records');
  const committedTotal = () => broker.groups.fetchOffsets('pf-group', null).reduce((n, o) => n + Math.max(0, o.offset), 0);
  await eventually(() => (committedTotal() === 3000 ? true : undefined), 20_000, 'commits of the first 3000');
  // One member leaves; its partitions move to the other two.
  await streams[2]!.close();
  await consumers[2]!.close(true);
  await eventually(() => {
    const d = broker.groups.describeGroup('pf-group');
    return d.state === 'Stable' && d.members.length === 2 ? true : undefined;
  }, 30_000, 'group rebalanced to two members');
  await new Promise((r) => setTimeout(r, 500));
  await produceRange(p, 'pf.group', 3000, 6000);
  await eventually(() => (delivered.size === 6000 ? true : undefined), 30_000, 'all 6000 records');
  const dupes = [...delivered].filter(([, n]) => n > 1);
  assert.deepEqual(dupes, [], 'no record delivered twice');
});
