// A Fetch over several partitions keeps to the byte limits the client asked for: each partition's, then the
// response's, in the order the partitions were asked for; only the first partition with data may exceed them, by
// sending one batch larger than both (KIP-74). The answers are the same whether the broker reads the partitions one
// after the other or at once, from the page cache or from the disk (fsync=always writes with direct I/O).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { FetchApi, type FetchRequest, type FetchResponse } from '../../src/kafka/apis/fetch.ts';
import { ProduceApi } from '../../src/kafka/apis/produce.ts';
import { encodeRecordBatch, forEachRecord } from '../../src/kafka/record-batch.ts';
import { defer, startBroker } from '../helpers/broker.ts';
import { RawClient } from '../helpers/raw-client.ts';

const PARTITIONS = 3;
const BATCHES = 5;
const PER_BATCH = 10;

type Client = Awaited<ReturnType<typeof RawClient.connect>>;

function value(partition: number, offset: number): string {
  return `p${partition}:o${offset}:`.padEnd(1000, '.');
}

/** Fills every partition of `topic` with BATCHES batches of PER_BATCH records; returns the size of one batch. */
async function fill(client: Client, topic: string): Promise<number> {
  const sizes = new Set<number>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let b = 0; b < BATCHES; b++) {
      const records = encodeRecordBatch({ records: Array.from({ length: PER_BATCH }, (_, i) => ({ key: null, value: Buffer.from(value(partition, b * PER_BATCH + i)) })) });
      sizes.add(records.length);
      const res = await client.request(ProduceApi, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
    }
  }
  assert.equal(sizes.size, 1, 'every batch has the same size');
  return [...sizes][0]!;
}

function request(topic: string, maxBytes: number, partitionMaxBytes: number, fetchOffset = 0): FetchRequest {
  return {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** Per partition: the bytes answered and the offsets and values of their records, checked against what was produced. */
function answered(res: FetchResponse): { bytes: number; offsets: number[] }[] {
  const parts = res.responses[0]!.partitions;
  assert.equal(parts.length, PARTITIONS);
  const out = [];
  for (const p of parts) {
    assert.equal(p.errorCode, 0);
    assert.equal(p.highWatermark, BATCHES * PER_BATCH, `partition ${p.partitionIndex} reports its end`);
    const offsets: number[] = [];
    forEachRecord(p.records ?? Buffer.alloc(0), 0, (buf, offset, _ts, start, length) => {
      assert.equal(buf.toString('utf8', start, start + length), value(p.partitionIndex, offset));
      offsets.push(offset);
    }, true);
    out.push({ bytes: p.records?.length ?? 0, offsets });
  }
  return out;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function checkLimits(t: TestContext, fsync: 'os' | 'always'): Promise<void> {
  const { broker } = await startBroker(t, { fsync });
  await broker.topics.create('limits', PARTITIONS);
  const client = await RawClient.connect(broker.port);
  defer(t, () => client.close());
  const batch = await fill(client, 'limits');

  // The partitions' limits fit in the response's: every partition answers two whole batches.
  const all = answered(await client.request(FetchApi, 11, request('limits', 100 * batch, 2.5 * batch)));
  assert.deepEqual(all, [0, 1, 2].map(() => ({ bytes: 2 * batch, offsets: range(0, 20) })));

  // They do not: the response's limit is spent in order, and the third partition gets nothing, not even one batch.
  const spent = answered(await client.request(FetchApi, 11, request('limits', 4.5 * batch, 2.5 * batch)));
  assert.deepEqual(spent, [
    { bytes: 2 * batch, offsets: range(0, 20) },
    { bytes: 2 * batch, offsets: range(0, 20) },
    { bytes: 0, offsets: [] },
  ]);

  // A partition limit below one batch: the first partition with data still gets its first batch whole, the others
  // nothing. From offset 45 on, the answer is the batch holding it (40..49), which starts before it.
  const small = answered(await client.request(FetchApi, 11, request('limits', 100 * batch, batch / 2, 45)));
  assert.deepEqual(small, [{ bytes: batch, offsets: range(40, 50) }, { bytes: 0, offsets: [] }, { bytes: 0, offsets: [] }]);

  // A response limit below one batch: the same.
  const tiny = answered(await client.request(FetchApi, 11, request('limits', batch / 2, 100 * batch)));
  assert.deepEqual(tiny, [{ bytes: batch, offsets: range(0, 10) }, { bytes: 0, offsets: [] }, { bytes: 0, offsets: [] }]);

  // Everything, in one response.
  const whole = answered(await client.request(FetchApi, 11, request('limits', 100 * batch, 100 * batch)));
  assert.deepEqual(whole, [0, 1, 2].map(() => ({ bytes: BATCHES * batch, offsets: range(0, 50) })));
}

test('a fetch keeps to the partition and response byte limits, in the order the partitions were asked for (page cache)', async (t) => {
  await checkLimits(t, 'os');
});

test('a fetch keeps to the partition and response byte limits, in the order the partitions were asked for (fsync always, direct I/O)', async (t) => {
  await checkLimits(t, 'always');
});
