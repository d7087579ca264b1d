// The committed-offset file: exact round-trips, durability across reopen and kill -9, torn tails, corruption, compaction.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OFFSETS_FILE_NAME, OffsetStore, type OffsetStoreOptions } from '../../src/broker/groups/index.ts';
import { BrokerErrorCode } from '../../src/broker/index.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oxbow-offsets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(t: TestContext, dir: string, options: OffsetStoreOptions = {}): Promise<OffsetStore> {
  const store = await OffsetStore.open(dir, options);
  t.after(() => store.close());
  return store;
}

const entry = (topic: string, partition: number, offset: number, metadata: string | null = null, leaderEpoch = 0) => ({
  topic,
  partition,
  offset,
  leaderEpoch,
  metadata,
});

function offsetsOf(store: OffsetStore, groupId: string): [string, number, number, number, string | null][] {
  return store.listGroup(groupId).map((o) => [o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata]);
}

void test('offsets, epochs and metadata (null, empty, unicode) come back exactly after reopening', async (t) => {
  const dir = await tempDir(t);
  const store = await OffsetStore.open(dir, { now: () => 1234 });
  await store.commit('g1', [
    entry('orders', 0, 0, null, -1),
    entry('orders', 1, Number.MAX_SAFE_INTEGER, ''),
    entry('päyments ✓', 0, 17, 'ünïcode ✓ {"a":1}', 7),
  ]);
  await store.commit('g2', [entry('orders', 0, 5, 'x')]);
  await store.commit('g1', [entry('orders', 0, 3, 'later')]);
  assert.equal(store.get('g1', 'orders', 0)?.commitTimestampMs, 1234);
  await store.close();

  const reopened = await openStore(t, dir);
  assert.deepEqual(offsetsOf(reopened, 'g1'), [
    ['orders', 0, 3, 0, 'later'],
    ['orders', 1, Number.MAX_SAFE_INTEGER, 0, ''],
    ['päyments ✓', 0, 17, 7, 'ünïcode ✓ {"a":1}'],
  ]);
  assert.deepEqual(offsetsOf(reopened, 'g2'), [['orders', 0, 5, 0, 'x']]);
  assert.equal(reopened.get('g1', 'orders', 1)?.metadata, '');
  assert.equal(reopened.get('g1', 'orders', 2), undefined);
  assert.equal(reopened.get('g1', 'orders', 0)?.commitTimestampMs, 1234);
  assert.deepEqual(reopened.groupIds().sort(), ['g1', 'g2']);
});

void test('concurrent commits all become durable, and the last one for a partition wins', async (t) => {
  const dir = await tempDir(t);
  const store = await OffsetStore.open(dir);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.commit('g', [entry('orders', i % 5, i)])));
  await store.close();
  const reopened = await openStore(t, dir);
  assert.deepEqual(
    reopened.listGroup('g').map((o) => o.offset),
    [45, 46, 47, 48, 49],
  );
});

void test('a deleted topic loses its offsets in every group, durably', async (t) => {
  const dir = await tempDir(t);
  const store = await OffsetStore.open(dir);
  await store.commit('g1', [entry('orders', 0, 1), entry('payments', 0, 2)]);
  await store.commit('g2', [entry('orders', 0, 3)]);
  await store.deleteTopic('orders');
  await store.commit('g1', [entry('orders', 0, 9)]);
  await store.close();
  const reopened = await openStore(t, dir);
  assert.deepEqual(offsetsOf(reopened, 'g1'), [['orders', 0, 9, 0, null], ['payments', 0, 2, 0, null]]);
  assert.equal(reopened.hasGroup('g2'), false);
});

void test('a torn last record is dropped on open, and later commits are not lost behind it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, OFFSETS_FILE_NAME);
  const store = await OffsetStore.open(dir);
  await store.commit('g', [entry('orders', 0, 10, 'ten')]);
  const goodBytes = (await stat(file)).size;
  await store.commit('g', [entry('orders', 0, 11, 'eleven'), entry('orders', 1, 1)]);
  await store.close();
  // A crash in the middle of writing the second commit.
  await truncate(file, goodBytes + 13);

  const reopened = await OffsetStore.open(dir);
  assert.deepEqual(offsetsOf(reopened, 'g'), [['orders', 0, 10, 0, 'ten']], 'the whole torn commit is gone, not half of it');
  assert.equal((await stat(file)).size, goodBytes, 'the torn bytes were cut off');
  await reopened.commit('g', [entry('orders', 0, 12, 'twelve')]);
  await reopened.close();

  const again = await openStore(t, dir);
  assert.deepEqual(offsetsOf(again, 'g'), [['orders', 0, 12, 0, 'twelve']]);
});

void test('a last record with a bad checksum, or zeros at the end, count as a torn tail', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, OFFSETS_FILE_NAME);
  const store = await OffsetStore.open(dir);
  await store.commit('g', [entry('orders', 0, 1)]);
  const goodBytes = (await stat(file)).size;
  await store.commit('g', [entry('orders', 0, 2)]);
  await store.close();
  const bytes = await readFile(file);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0xff, bytes.length - 3);
  await writeFile(file, bytes);
  const first = await OffsetStore.open(dir);
  assert.equal(first.get('g', 'orders', 0)?.offset, 1);
  await first.close();

  await appendFile(file, Buffer.alloc(4096));
  const second = await openStore(t, dir);
  assert.equal(second.get('g', 'orders', 0)?.offset, 1);
  assert.equal((await stat(file)).size, goodBytes);
});

void test('damage before the last record is refused with a clear error, not silently dropped', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, OFFSETS_FILE_NAME);
  const store = await OffsetStore.open(dir);
  await store.commit('g', [entry('orders', 0, 1, 'first')]);
  await store.commit('g', [entry('orders', 0, 2, 'second')]);
  await store.close();
  const bytes = await readFile(file);
  const at = bytes.indexOf('first');
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
  await writeFile(file, bytes);
  await assert.rejects(OffsetStore.open(dir), (err: Error & { code?: string; fields?: Record<string, unknown> }) => {
    assert.equal(err.code, BrokerErrorCode.OFFSETS_CORRUPT);
    assert.match(err.message, /committed-offsets\.log is damaged at byte 8/);
    assert.equal(err.fields?.['position'], 8);
    return true;
  });

  await writeFile(file, 'not an offsets file');
  await assert.rejects(OffsetStore.open(dir), { code: BrokerErrorCode.OFFSETS_CORRUPT });
});

void test('the file is compacted when it grows much larger than its live content, at runtime and on open', async (t) => {
  const dir = await tempDir(t);
  const store = await OffsetStore.open(dir, { compactMinBytes: 4096, compactRatio: 4 });
  for (let i = 0; i < 500; i++) await store.commit('g', [entry('orders', i % 3, i, `m${i}`)]);
  const { fileBytes, liveBytes } = store.sizes();
  assert.ok(fileBytes <= 4096 + 200, `file stays near the compaction threshold (${fileBytes} bytes)`);
  assert.ok(liveBytes < 300);
  await store.close();
  assert.deepEqual(
    offsetsOf(await openStore(t, dir), 'g').map((o) => o[2]),
    [498, 499, 497],
  );

  // A file that grew under a store with compaction effectively off is compacted when opened with it on.
  const dir2 = await tempDir(t);
  const big = await OffsetStore.open(dir2, { compactMinBytes: 1e12 });
  for (let i = 0; i < 300; i++) await big.commit('g', [entry('orders', 0, i)]);
  await big.close();
  const grown = (await stat(join(dir2, OFFSETS_FILE_NAME))).size;
  const reopened = await openStore(t, dir2, { compactMinBytes: 1024 });
  const compacted = (await stat(join(dir2, OFFSETS_FILE_NAME))).size;
  assert.ok(compacted < grown / 10, `compacted ${grown} → ${compacted} bytes`);
  assert.equal(reopened.get('g', 'orders', 0)?.offset, 299);
});

void test('every commit acknowledged before kill -9 is there after restart', async (t) => {
  const dir = await tempDir(t);
  const storeModule = pathToFileURL(join(import.meta.dirname, '../../src/broker/groups/index.ts')).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { OffsetStore } from ${JSON.stringify(storeModule)};
       const store = await OffsetStore.open(${JSON.stringify(dir)});
       for (let i = 1; ; i++) {
         await store.commit('g', [{ topic: 'orders', partition: 0, offset: i, leaderEpoch: 0, metadata: 'ack-' + i }]);
         process.stdout.write(i + '\\n');
       }`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let lastAcked = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    lastAcked = Number(line);
    if (lastAcked >= 200) {
      child.kill('SIGKILL');
      break;
    }
  }
  assert.equal(await exited, 'SIGKILL');
  const store = await openStore(t, dir);
  const committed = store.get('g', 'orders', 0);
  assert.ok(committed !== undefined && committed.offset >= lastAcked, `acknowledged ${lastAcked}, found ${committed?.offset}`);
  assert.equal(committed.metadata, `ack-${committed.offset}`);
});
