// Sink recovery from committed file names, against a real local store and a real S3 server (s3rver).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import S3rver from 's3rver';
import { cleanupLeftovers, dataFileName, gapsAndOverlaps, recoverPartitionPosition } from '../../src/sink/index.ts';
import { LocalObjectStore, openObjectStore, TEMPORARY_PREFIX, type ObjectStore } from '../../src/storage/index.ts';

const TOPIC = 'orders.processed';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-sink-recovery-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function localStore(t: TestContext): Promise<LocalObjectStore> {
  const store = await openObjectStore(path.join(await tempDir(t), 'lake'));
  assert.ok(store instanceof LocalObjectStore);
  t.after(() => store.close());
  return store;
}

function hour(h: number): string {
  return `golden/${TOPIC}/2026/11/22/${String(h).padStart(2, '0')}/`;
}

async function putFile(store: ObjectStore, dir: string, kafkaPartition: number, first: number, last: number, topic = TOPIC): Promise<string> {
  const key = `${dir}${dataFileName(topic, kafkaPartition, first, last)}`;
  await store.put(key, Buffer.from(`${first}-${last}`));
  return key;
}

/**
 * Partition 3 wrote offsets 0..99 and 100..149 split across hours 05 and 06 (a batch straddling the hour, and late
 * records back in 05), then 200..249 after a gap; other partitions and topics live beside it.
 */
async function plantLayout(store: ObjectStore): Promise<void> {
  await putFile(store, hour(5), 3, 0, 59);
  await putFile(store, hour(6), 3, 60, 99);
  await putFile(store, hour(5), 3, 100, 104); // late records of the next batch
  await putFile(store, hour(6), 3, 105, 149);
  await putFile(store, hour(7), 3, 200, 249);
  await putFile(store, hour(7), 4, 0, 999);
  await putFile(store, `golden/${TOPIC}-v2/2026/11/22/05/`, 3, 0, 5000, `${TOPIC}-v2`);
  await putFile(store, hour(5), 3, 0, 7000, 'copied.from.elsewhere'); // another topic's name under this prefix
  await store.put(`${hour(5)}_SUCCESS`, Buffer.from(''));
}

async function assertLayout(store: ObjectStore): Promise<void> {
  const position = await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 3 });
  assert.equal(position.nextOffset, 250);
  assert.deepEqual(
    position.files.map((f) => [f.key.slice(`golden/${TOPIC}/2026/11/22/`.length), f.firstOffset, f.lastOffset, f.size]),
    [
      ['05/orders.processed+3+0+59.snappy.parquet', 0, 59, 4],
      ['06/orders.processed+3+60+99.snappy.parquet', 60, 99, 5],
      ['05/orders.processed+3+100+104.snappy.parquet', 100, 104, 7],
      ['06/orders.processed+3+105+149.snappy.parquet', 105, 149, 7],
      ['07/orders.processed+3+200+249.snappy.parquet', 200, 249, 7],
    ],
  );
  assert.deepEqual(position.gaps, [{ firstOffset: 150, lastOffset: 199 }]);
  assert.deepEqual(position.overlaps, []);

  const other = await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 4, topicPrefix: `golden/${TOPIC}/` });
  assert.equal(other.nextOffset, 1000);
  const none = await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 9 });
  assert.deepEqual(none, { nextOffset: null, files: [], gaps: [], overlaps: [] });
}

test('local store: the position is the max over interleaved hour partitions; a gap is reported', async (t) => {
  const store = await localStore(t);
  await plantLayout(store);
  await assertLayout(store);
});

test('local store: temporary leftovers are not committed files, and cleanupLeftovers removes them', async (t) => {
  const store = await localStore(t);
  await putFile(store, hour(5), 0, 0, 9);
  // An interrupted write of the next file: a temporary file beside the committed one.
  const dir = path.join(store.root, ...hour(5).split('/'));
  await writeFile(path.join(dir, `${TEMPORARY_PREFIX}${dataFileName(TOPIC, 0, 10, 19)}-abc123`), 'half a file');
  const before = await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 0 });
  assert.equal(before.nextOffset, 10);
  assert.deepEqual(before.files.map((f) => f.lastOffset), [9]);

  assert.equal(await cleanupLeftovers(store, `golden/${TOPIC}/`), 1);
  assert.deepEqual(await readdir(dir), [dataFileName(TOPIC, 0, 0, 9)]);
  assert.equal(await cleanupLeftovers(store, `golden/${TOPIC}/`), 0);
  assert.equal((await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 0 })).nextOffset, 10);
});

test('local store: overlapping files are reported with both keys', async (t) => {
  const store = await localStore(t);
  const a = await putFile(store, hour(5), 1, 0, 99);
  const b = await putFile(store, hour(6), 1, 50, 120);
  const c = await putFile(store, hour(6), 1, 121, 130);
  const position = await recoverPartitionPosition(store, { topic: TOPIC, kafkaPartition: 1 });
  assert.equal(position.nextOffset, 131);
  assert.deepEqual(position.gaps, []);
  assert.deepEqual(position.overlaps, [{ firstOffset: 50, lastOffset: 99, keys: [a, b] }]);
  assert.deepEqual(position.files.map((f) => f.key), [a, b, c]);
});

test('gapsAndOverlaps: a file inside a longer one, adjacent ranges, several gaps', () => {
  const r = (firstOffset: number, lastOffset: number) => ({ firstOffset, lastOffset, key: `${firstOffset}-${lastOffset}` });
  assert.deepEqual(gapsAndOverlaps([r(0, 100), r(10, 20), r(101, 101), r(105, 110), r(200, 200)]), {
    gaps: [
      { firstOffset: 102, lastOffset: 104 },
      { firstOffset: 111, lastOffset: 199 },
    ],
    overlaps: [{ firstOffset: 10, lastOffset: 20, keys: ['0-100', '10-20'] }],
  });
  assert.deepEqual(gapsAndOverlaps([]), { gaps: [], overlaps: [] });
});

test('s3 store (s3rver): the same recovery over real S3 listing', async (t) => {
  const directory = await tempDir(t);
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: 'lake' }] });
  const { port } = await server.run();
  t.after(() => server.close());
  const store = await openObjectStore(`s3://lake/root/?endpoint=http://127.0.0.1:${port}&region=us-east-1&forcePathStyle=true`, {
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  t.after(() => store.close());
  await plantLayout(store);
  await assertLayout(store);
});
