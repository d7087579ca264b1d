// A stream worker that has to create its dataset's topics gives the raw topic topicPartitions partitions, and the
// processed and dead-letter topics the raw topic's count; existing topics are left as they are.
import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { test } from 'node:test';
import { StreamWorker } from '../../src/stream/index.ts';
import { defer, startBroker } from '../helpers/broker.ts';
import { dataset, tempDir } from './helpers.ts';

async function partitionCounts(address: string, topics: string[]): Promise<number[]> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [address] });
  try {
    const meta = await admin.metadata({ topics, forceUpdate: true });
    return topics.map((t) => meta.topics.get(t)?.partitionsCount ?? -1);
  } finally {
    await admin.close();
  }
}

test('topics a worker creates: topicPartitions for raw, the raw count for processed and dlq; an existing raw topic decides', async (t) => {
  const { address } = await startBroker(t);
  const stateDir = await tempDir(t);
  const logs: string[] = [];
  const fresh = await StreamWorker.start({ brokers: [address], clientId: 'test', dataset: dataset('fresh', { schema: { type: 'object' } }), stateDir, log: (l) => logs.push(l), topicPartitions: 3 });
  defer(t, () => fresh.close());
  assert.deepEqual(await partitionCounts(address, ['fresh.raw', 'fresh.processed', 'fresh.dlq']), [3, 3, 3]);
  assert.ok(logs.includes('created topics fresh.raw, fresh.processed, fresh.dlq with 3 partition(s)'), logs.join('\n'));

  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [address] });
  await admin.createTopics({ topics: ['given.raw'], partitions: 2, replicas: -1 });
  await admin.close();
  const given = await StreamWorker.start({ brokers: [address], clientId: 'test', dataset: dataset('given', { schema: { type: 'object' } }), stateDir, log: () => undefined, topicPartitions: 5 });
  defer(t, () => given.close());
  assert.deepEqual(await partitionCounts(address, ['given.raw', 'given.processed', 'given.dlq']), [2, 2, 2]);
});
