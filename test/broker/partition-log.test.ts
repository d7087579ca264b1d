// The partition log on real files: offsets, reads (mid-batch, KIP-74), segment rolls, restart and torn-tail recovery,
// kill -9 durability, retention by time and size, idempotent producers, timestamps and bounded file handles.
import assert from 'node:assert/strict';
import { existsSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KafkaErrorCode } from '../../src/kafka/errors.ts';
import { decodeRecords, encodeRecordBatch, readBatchHeader, validateBatches, type EncodeBatchOptions } from '../../src/kafka/record-batch.ts';
import { BrokerError, BrokerErrorCode } from '../../src/broker/index.ts';
import { PartitionLog, type AppendResult, type LogConfig } from '../../src/broker/log/index.ts';
import { killWriterAt } from '../helpers/broker.ts';

const BASE_CONFIG: LogConfig = {
  segmentBytes: 1 << 20,
  retentionMs: -1,
  retentionBytes: -1,
  maxMessageBytes: 1 << 20,
  fsync: { mode: 'os' },
  indexIntervalBytes: 256,
};

type TestClock = { t: number; now(): number };
function clockAt(t: number): TestClock {
  return {
    t,
    now() {
      return this.t;
    },
  };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openLog(t: TestContext, dir: string, config: Partial<LogConfig> = {}, clock?: TestClock): Promise<PartitionLog> {
  const log = await PartitionLog.open(dir, { ...BASE_CONFIG, ...config }, clock);
  t.after(() => log.close());
  return log;
}

/** Appends one batch holding `values` the way the Produce handler will: validate, then append. */
async function produce(log: PartitionLog, values: string[], opts: Partial<EncodeBatchOptions> = {}): Promise<AppendResult> {
  const bytes = encodeRecordBatch({ records: values.map((v) => ({ key: null, value: v, timestamp: 1_000 })), ...opts });
  const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
  assert.ok(v.ok);
  return log.append(bytes, v.batches);
}

type Appended = Extract<AppendResult, { ok: true }>;

async function produceOk(log: PartitionLog, values: string[], opts: Partial<EncodeBatchOptions> = {}): Promise<Appended> {
  const r = await produce(log, values, opts);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r;
}

/** Every record from logStartOffset to logEndOffset, read the way a consumer does (skipping records below its offset). */
async function readAll(log: PartitionLog, maxBytes = 1000): Promise<Array<{ offset: number; value: string }>> {
  const out: Array<{ offset: number; value: string }> = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records, outOfRange } = await log.read(next, maxBytes);
    assert.equal(outOfRange, false);
    assert.ok(records.length > 0, `no progress at offset ${next}`);
    for (let pos = 0; pos < records.length; ) {
      const h = readBatchHeader(records, pos);
      for (const r of await decodeRecords(records.subarray(pos, pos + h.byteLength))) {
        if (r.offset >= next) out.push({ offset: r.offset, value: r.value!.toString() });
      }
      next = h.baseOffset + h.lastOffsetDelta + 1;
      pos += h.byteLength;
    }
  }
  return out;
}

function values(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

async function logFiles(dir: string, suffix = '.log'): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith(suffix)).sort();
}

void test('append assigns contiguous offsets and stores the batch as received, with only offset and epoch rewritten', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir);
  assert.equal(log.logStartOffset, 0);
  assert.equal(log.logEndOffset, 0);
  const first = await produceOk(log, ['a', 'b', 'c']);
  assert.equal(first.baseOffset, 0);
  assert.equal(first.lastOffset, 2);
  const sent = encodeRecordBatch({ records: [{ key: 'k', value: 'd', timestamp: 5 }], baseOffset: 999, compression: 'gzip' });
  const original = Buffer.from(sent);
  const v = validateBatches(sent, { maxMessageBytes: 1 << 20, allowZstd: false });
  assert.ok(v.ok);
  const r = await log.append(sent, v.batches);
  assert.deepEqual(r, { ok: true, baseOffset: 3, lastOffset: 3, logAppendTimeMs: -1, logStartOffset: 0, duplicate: false });
  assert.equal(log.logEndOffset, 4);

  const { records } = await log.read(3, 1 << 20);
  assert.equal(records.length, original.length);
  assert.equal(readBatchHeader(records, 0).baseOffset, 3);
  assert.equal(records.readInt32BE(12), 0, 'partitionLeaderEpoch is 0');
  assert.ok(records.subarray(16).equals(original.subarray(16)), 'everything from magic on is byte-identical');
  assert.ok(validateBatches(records, { maxMessageBytes: 1 << 20, allowZstd: true }).ok, 'CRC still valid');
  assert.deepEqual(await readAll(log), [
    { offset: 0, value: 'a' },
    { offset: 1, value: 'b' },
    { offset: 2, value: 'c' },
    { offset: 3, value: 'd' },
  ]);
  assert.equal(log.sizeBytes, (await stat(path.join(dir, '00000000000000000000.log'))).size);
});

void test('reads return the batch containing a mid-batch offset, honour KIP-74, and report out-of-range offsets', async (t) => {
  const log = await openLog(t, await tempDir(t));
  await produceOk(log, values(5, 'first')); // 0-4
  await produceOk(log, values(5, 'second')); // 5-9
  await produceOk(log, values(5, 'third')); // 10-14
  const one = (await produceOk(log, ['x'])).baseOffset;
  assert.equal(one, 15);

  const mid = await log.read(7, 1 << 20);
  assert.equal(mid.outOfRange, false);
  assert.equal(readBatchHeader(mid.records, 0).baseOffset, 5, 'starts at the batch that contains offset 7');

  const len = async (offset: number): Promise<number> => readBatchHeader((await log.read(offset, 0)).records, 0).byteLength;
  const [len0, len1, len2] = [await len(0), await len(5), await len(10)];
  const tiny = await log.read(0, 1);
  assert.equal(tiny.records.length, len0, 'a batch larger than maxBytes still comes back whole, alone');
  const twoAndAHalf = await log.read(0, len0 + len1 + Math.floor(len2 / 2));
  assert.equal(twoAndAHalf.records.length, len0 + len1, 'only whole batches within maxBytes');
  assert.equal((await log.read(0, len0 + len1 + len2)).records.length, len0 + len1 + len2);

  assert.deepEqual(await log.read(16, 100), { records: Buffer.alloc(0), outOfRange: false });
  assert.equal((await log.read(17, 100)).outOfRange, true);
  assert.equal((await log.read(-1, 100)).outOfRange, true);
});

void test('segments roll at segmentBytes, a batch larger than a segment gets its own, and reads cross segments', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { segmentBytes: 600, indexIntervalBytes: 100 });
  const expected: Array<{ offset: number; value: string }> = [];
  for (let i = 0; i < 40; i++) {
    const vals = values((i % 4) + 1, `b${i}`);
    const { baseOffset } = await produceOk(log, vals);
    vals.forEach((v, k) => expected.push({ offset: baseOffset + k, value: v }));
  }
  const big = ['y'.repeat(2000)];
  const { baseOffset } = await produceOk(log, big);
  expected.push({ offset: baseOffset, value: big[0]! });
  await produceOk(log, ['after-big']);
  expected.push({ offset: baseOffset + 1, value: 'after-big' });

  const logs = await logFiles(dir);
  assert.ok(logs.length > 5, `expected several segments, got ${logs.length}`);
  let total = 0;
  for (const f of logs) {
    const size = (await stat(path.join(dir, f))).size;
    total += size;
    assert.ok(size <= 600 || size > 2000, `segment ${f} is ${size} bytes`);
  }
  assert.equal(log.sizeBytes, total);
  assert.ok(logs.includes(`${String(baseOffset).padStart(20, '0')}.log`), 'the big batch starts a fresh segment');
  assert.deepEqual(await readAll(log), expected);
  assert.deepEqual(await readAll(log, 1), expected);
  // Every offset can be fetched directly, from any segment.
  for (const { offset } of expected) {
    const { records } = await log.read(offset, 1);
    const h = readBatchHeader(records, 0);
    assert.ok(h.baseOffset <= offset && offset <= h.baseOffset + h.lastOffsetDelta, `offset ${offset}`);
  }
});

void test('a restart keeps every batch, rebuilds missing indexes and removes orphan index files', async (t) => {
  const dir = await tempDir(t);
  const config = { segmentBytes: 800, indexIntervalBytes: 64 };
  const first = await PartitionLog.open(dir, { ...BASE_CONFIG, ...config });
  for (let i = 0; i < 30; i++) await produceOk(first, values(3, `r${i}`));
  const before = await readAll(first);
  const end = first.logEndOffset;
  await first.close();
  await assert.rejects(first.read(0, 10), (err: unknown) => err instanceof BrokerError && err.code === BrokerErrorCode.LOG_CLOSED);

  const indexes = await logFiles(dir, '.index');
  await rm(path.join(dir, indexes[1]!)); // a sealed segment's offset index
  await writeFile(path.join(dir, (await logFiles(dir, '.timeindex'))[2]!), Buffer.from('garbage!'));
  await writeFile(path.join(dir, '00000000000099999999.index'), Buffer.alloc(16));

  const log = await openLog(t, dir, config);
  assert.equal(log.logEndOffset, end);
  assert.equal(log.recovery.truncatedBytes, 0);
  assert.equal(existsSync(path.join(dir, '00000000000099999999.index')), false, 'orphan index removed');
  assert.ok(existsSync(path.join(dir, indexes[1]!)), 'missing index rebuilt');
  assert.deepEqual(await readAll(log), before);
  assert.equal((await produceOk(log, ['more'])).baseOffset, end);
});

void test('index entries written behind the appends are all on disk after a clean close, as a rebuild writes them', async (t) => {
  const dir = await tempDir(t);
  const config = { indexIntervalBytes: 64 };
  const first = await PartitionLog.open(dir, { ...BASE_CONFIG, ...config });
  // Far more entries than are gathered before one index write, and a last few that only the close writes out.
  for (let i = 0; i < 700; i++) {
    const bytes = encodeRecordBatch({ records: [{ key: null, value: `record-${i}`, timestamp: 1_000 + i }] });
    const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
    assert.ok(v.ok && (await first.append(bytes, v.batches)).ok);
  }
  await first.close();
  const [index] = await logFiles(dir, '.index');
  const [timeIndex] = await logFiles(dir, '.timeindex');
  const written = { offsets: await readFile(path.join(dir, index!)), times: await readFile(path.join(dir, timeIndex!)) };
  // One entry per batch after the first (each batch is over 64 bytes; position 0 needs no entry).
  assert.equal(written.offsets.length, 699 * 8);
  assert.equal(written.times.length, 699 * 12, 'one time entry per indexed batch (each has a later timestamp)');

  // Opening the active segment again scans the log and writes both index files from scratch.
  await rm(path.join(dir, index!));
  await rm(path.join(dir, timeIndex!));
  const log = await openLog(t, dir, config);
  assert.equal(log.logEndOffset, 700);
  await log.close();
  assert.deepEqual(await readFile(path.join(dir, index!)), written.offsets);
  assert.deepEqual(await readFile(path.join(dir, timeIndex!)), written.times);
});

void test('a torn tail is cut back to the last whole batch, and appends continue contiguously', async (t) => {
  const dir = await tempDir(t);
  const first = await PartitionLog.open(dir, BASE_CONFIG);
  for (let i = 0; i < 5; i++) await produceOk(first, values(2, `ok${i}`));
  const good = first.sizeBytes;
  await produceOk(first, values(2, 'torn'));
  const full = first.sizeBytes;
  await first.close();

  const file = path.join(dir, '00000000000000000000.log');
  await truncate(file, good + Math.floor((full - good) / 2)); // the last batch half written...
  const fh = await open(file, 'a');
  await fh.write(Buffer.from('\x00\x01garbage after the tear\xff\xff'));
  await fh.close(); // ...followed by junk

  const log = await openLog(t, dir);
  assert.equal(log.logEndOffset, 10);
  assert.ok(log.recovery.truncatedBytes > 0);
  assert.match(log.recovery.reason ?? '', /segment 0/);
  assert.equal((await stat(file)).size, good);
  assert.deepEqual(await produceOk(log, ['next']), { ok: true, baseOffset: 10, lastOffset: 10, logAppendTimeMs: -1, logStartOffset: 0, duplicate: false });
  const all = await readAll(log);
  assert.deepEqual(
    all.map((r) => r.offset),
    Array.from({ length: 11 }, (_, i) => i),
  );
  assert.equal(all.at(-1)!.value, 'next');
});

void test('a batch with a bad CRC in the tail is dropped with everything after it', async (t) => {
  const dir = await tempDir(t);
  const first = await PartitionLog.open(dir, BASE_CONFIG);
  await produceOk(first, ['keep']);
  const keep = first.sizeBytes;
  await produceOk(first, ['flipped']);
  await produceOk(first, ['lost-after-flip']);
  await first.close();
  const file = path.join(dir, '00000000000000000000.log');
  const bytes = await readFile(file);
  bytes[keep + 70]! ^= 0x40;
  await writeFile(file, bytes);
  const log = await openLog(t, dir);
  assert.equal(log.logEndOffset, 1);
  assert.match(log.recovery.reason ?? '', /CRC/);
  assert.deepEqual(await readAll(log), [{ offset: 0, value: 'keep' }]);
});

void test('kill -9 during appends with fsync=always loses no acknowledged batch', async (t) => {
  const dir = await tempDir(t);
  const logModule = fileURLToPath(new URL('../../src/broker/log/index.ts', import.meta.url));
  const batchModule = fileURLToPath(new URL('../../src/kafka/record-batch.ts', import.meta.url));
  const script = path.join(dir, 'writer.ts');
  await writeFile(
    script,
    `import { PartitionLog } from ${JSON.stringify(logModule)};
import { encodeRecordBatch, validateBatches } from ${JSON.stringify(batchModule)};
const log = await PartitionLog.open(process.argv[2], { segmentBytes: 20000, retentionMs: -1, retentionBytes: -1,
  maxMessageBytes: 1 << 20, fsync: { mode: 'always' }, indexIntervalBytes: 512 });
for (let i = 0; ; i++) {
  const bytes = encodeRecordBatch({ records: Array.from({ length: 1 + (i % 5) }, (_, k) => ({ key: null, value: 'v' + i + '-' + k + 'x'.repeat(i % 300) })) });
  const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
  if (!v.ok) throw new Error(v.message);
  const r = await log.append(bytes, v.batches);
  if (!r.ok) throw new Error(r.message);
  process.stdout.write(r.lastOffset + '\\n');
}
`,
  );
  const logDir = path.join(dir, 'log');
  const acked = await killWriterAt(script, [logDir], 600);
  const log = await openLog(t, logDir);
  assert.ok(log.logEndOffset > acked, `acked up to ${acked}, log ends at ${log.logEndOffset}`);
  const all = await readAll(log, 64 << 10);
  assert.deepEqual(
    all.map((r) => r.offset),
    Array.from({ length: log.logEndOffset }, (_, i) => i),
  );
  assert.ok((await logFiles(logDir)).length > 3, 'the writer rolled segments');
  assert.equal((await produceOk(log, ['after'])).baseOffset, all.length);
});

void test('retention by time deletes expired sealed segments and moves logStartOffset, never the active segment', async (t) => {
  const dir = await tempDir(t);
  const clock = clockAt(1_000_000);
  const log = await openLog(t, dir, { segmentBytes: 300, retentionMs: 10_000 }, clock);
  const ts = (n: number): Partial<EncodeBatchOptions> => ({ records: [{ key: null, value: 'x'.repeat(100), timestamp: n }] });
  for (let i = 0; i < 6; i++) await produceOk(log, [], ts(1_000_000 + i * 1000));
  const segmentsBefore = (await logFiles(dir)).length;
  assert.ok(segmentsBefore >= 3);
  assert.deepEqual(await log.applyRetention(), { deletedSegments: 0 });

  clock.t = 1_000_000 + 2500 + 10_000; // batches at +0, +1000, +2000 are now older than 10 s
  const { deletedSegments } = await log.applyRetention();
  assert.ok(deletedSegments >= 1);
  const remaining = await logFiles(dir);
  assert.equal(remaining.length, segmentsBefore - deletedSegments);
  assert.equal(log.logStartOffset, Number(remaining[0]!.slice(0, 20)));
  assert.ok(log.logStartOffset > 0 && log.logStartOffset <= 3);
  assert.equal((await log.read(0, 100)).outOfRange, true);
  assert.equal((await readAll(log))[0]!.offset, log.logStartOffset);

  clock.t += 1_000_000; // everything expired: the active segment still stays
  await log.applyRetention();
  assert.equal((await logFiles(dir)).length, 1);
  assert.equal(log.logEndOffset, 6);
  assert.equal((await readAll(log)).at(-1)!.offset, 5);
  assert.equal((await produceOk(log, ['later'])).baseOffset, 6);
  // Reopening finds the same start.
  const start = log.logStartOffset;
  await log.close();
  const again = await openLog(t, dir, {}, clock);
  assert.equal(again.logStartOffset, start);
  assert.equal(again.logEndOffset, 7);
});

void test('retention by size deletes the oldest segments while the rest still reach retentionBytes', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { segmentBytes: 500, retentionBytes: 1200 });
  for (let i = 0; i < 20; i++) await produceOk(log, ['x'.repeat(150)]);
  const sizeBefore = log.sizeBytes;
  const { deletedSegments } = await log.applyRetention();
  assert.ok(deletedSegments > 0);
  assert.ok(log.sizeBytes < sizeBefore);
  assert.ok(log.sizeBytes >= 1200, `kept ${log.sizeBytes} bytes`);
  const files = await logFiles(dir);
  const oldest = (await stat(path.join(dir, files[0]!))).size;
  assert.ok(log.sizeBytes - oldest < 1200, 'deleting one more segment would go below retentionBytes');
  assert.equal(log.logStartOffset, Number(files[0]!.slice(0, 20)));
  assert.equal((await readAll(log)).length, log.logEndOffset - log.logStartOffset);
});

void test('idempotent producers: retries return the original offsets, gaps and stale epochs are refused', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { segmentBytes: 400 });
  const p = (baseSequence: number, n: number, producerEpoch = 0): Partial<EncodeBatchOptions> => ({
    producerId: 42,
    producerEpoch,
    baseSequence,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: `s${baseSequence + i}`.padEnd(60, '.') })),
  });
  assert.deepEqual(await produceOk(log, [], p(0, 3)), { ok: true, baseOffset: 0, lastOffset: 2, logAppendTimeMs: -1, logStartOffset: 0, duplicate: false });
  await produceOk(log, ['other producer']); // offset 3, no producer id
  assert.equal((await produceOk(log, [], p(3, 2))).baseOffset, 4);

  const retry = await produce(log, [], p(0, 3));
  assert.ok(retry.ok);
  assert.equal(retry.duplicate, true);
  assert.equal(retry.baseOffset, 0);
  assert.equal(retry.lastOffset, 2);
  assert.equal(log.logEndOffset, 6, 'a duplicate writes nothing');

  const gap = await produce(log, [], p(9, 1));
  assert.equal(gap.ok, false);
  assert.equal(!gap.ok && gap.errorCode, KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const bumpedMidway = await produce(log, [], p(5, 1, 1));
  assert.equal(!bumpedMidway.ok && bumpedMidway.errorCode, KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

  for (let s = 5; s < 12; s++) await produceOk(log, [], p(s, 1));
  const tooOld = await produce(log, [], p(0, 3)); // no longer among the last 5 batches
  assert.equal(!tooOld.ok && tooOld.errorCode, KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

  // After a restart the state is rebuilt from the log: the last batch is still recognised, the next sequence accepted.
  const end = log.logEndOffset;
  await log.close();
  const again = await openLog(t, dir, { segmentBytes: 400 });
  const retryAfterRestart = await produce(again, [], p(11, 1));
  assert.ok(retryAfterRestart.ok && retryAfterRestart.duplicate);
  assert.equal(retryAfterRestart.baseOffset, end - 1);
  assert.equal((await produceOk(again, [], p(12, 1))).baseOffset, end);

  assert.equal((await produceOk(again, [], p(0, 1, 1))).baseOffset, end + 1, 'a new epoch starts at sequence 0');
  const fenced = await produce(again, [], p(13, 1, 0));
  assert.equal(!fenced.ok && fenced.errorCode, KafkaErrorCode.INVALID_PRODUCER_EPOCH);
  const unknown = await produce(again, [], { ...p(77, 1), producerId: 43 });
  assert.ok(unknown.ok, 'an unknown producer is accepted at any sequence');
});

void test('sequence numbers wrap from INT32_MAX to 0', async (t) => {
  const log = await openLog(t, await tempDir(t));
  const p = (baseSequence: number, n: number): Partial<EncodeBatchOptions> => ({
    producerId: 5,
    producerEpoch: 0,
    baseSequence,
    records: Array.from({ length: n }, () => ({ key: null, value: 'w' })),
  });
  await produceOk(log, [], p(0x7fff_fffe, 3)); // sequences MAX-1, MAX, 0
  assert.equal((await produceOk(log, [], p(1, 1))).baseOffset, 3);
});

void test('offsetForTimestamp finds the first record at or after a time, across segments', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { segmentBytes: 400, indexIntervalBytes: 50 });
  // Batch i holds records at 10_000 + 100*i + {0, 10, 20}, offsets 3i..3i+2.
  for (let i = 0; i < 20; i++) {
    await produceOk(log, [], {
      records: [0, 10, 20].map((d) => ({ key: null, value: `t${i}-${d}`.padEnd(40, '.'), timestamp: 10_000 + 100 * i + d })),
      compression: i % 2 === 0 ? 'none' : 'gzip',
    });
  }
  assert.ok((await logFiles(dir)).length > 3);
  assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 10_000 });
  assert.deepEqual(await log.offsetForTimestamp(10_000), { offset: 0, timestamp: 10_000 });
  assert.deepEqual(await log.offsetForTimestamp(10_705), { offset: 3 * 7 + 1, timestamp: 10_710 });
  assert.deepEqual(await log.offsetForTimestamp(10_790), { offset: 3 * 8, timestamp: 10_800 });
  assert.deepEqual(await log.offsetForTimestamp(11_920), { offset: 3 * 19 + 2, timestamp: 11_920 });
  assert.equal(await log.offsetForTimestamp(11_921), null);
  await log.close();
  const again = await openLog(t, dir, { segmentBytes: 400, indexIntervalBytes: 50 });
  assert.deepEqual(await again.offsetForTimestamp(10_705), { offset: 22, timestamp: 10_710 });
});

void test('concurrent appends are serialized and readers only ever see whole, acknowledged batches', async (t) => {
  const log = await openLog(t, await tempDir(t), { segmentBytes: 2000 });
  let wakeups = 0;
  const seenAtWakeup: number[] = [];
  const off = log.onAppend(() => {
    wakeups++;
    seenAtWakeup.push(log.logEndOffset);
  });
  const reads: Array<Promise<unknown>> = [];
  const appends = Array.from({ length: 50 }, (_, i) => {
    const r = produceOk(log, values(2, `c${i}`));
    reads.push(
      log.read(0, 1 << 20).then(({ records }) => {
        assert.equal(validateBatches(records, { maxMessageBytes: 1 << 20, allowZstd: true }).ok || records.length === 0, true);
      }),
    );
    return r;
  });
  const results = await Promise.all(appends);
  await Promise.all(reads);
  assert.deepEqual(
    results.map((r) => r.baseOffset),
    Array.from({ length: 50 }, (_, i) => 2 * i),
  );
  await new Promise((resolve) => setImmediate(resolve));
  // Appends queued together are written as one group, with one wake-up for the group.
  // (a group is split only where the log rolls to a new segment).
  assert.ok(wakeups >= 1 && wakeups <= log.segmentCount, `${wakeups} wake-ups for 50 appends queued at once, ${log.segmentCount} segments`);
  assert.ok(seenAtWakeup.every((end) => end > 0 && end % 2 === 0));
  assert.equal(seenAtWakeup.at(-1), 100);
  const before = wakeups;
  off();
  await produceOk(log, ['quiet']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(wakeups, before, 'no call after unsubscribing');
});

void test('reading many old segments keeps a bounded number of files open', async (t) => {
  if (!existsSync('/proc/self/fd')) return t.skip('needs /proc to count open files');
  const log = await openLog(t, await tempDir(t), { segmentBytes: 200 });
  for (let i = 0; i < 60; i++) await produceOk(log, ['z'.repeat(120)]);
  const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
  const before = await fds();
  for (let round = 0; round < 2; round++) assert.equal((await readAll(log, 1)).length, 60);
  const after = await fds();
  assert.ok(after - before <= 6, `open files grew from ${before} to ${after}`);
});

void test('fsync=always and fsync=interval both keep appending and flush on demand', async (t) => {
  for (const fsync of [{ mode: 'always' }, { mode: 'interval', intervalMs: 5 }] as const) {
    const dir = await tempDir(t);
    const log = await openLog(t, dir, { fsync, segmentBytes: 300 });
    for (let i = 0; i < 10; i++) await produceOk(log, ['d'.repeat(50)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await log.flush();
    log.updateConfig({ ...BASE_CONFIG, segmentBytes: 300, fsync: { mode: 'os' } });
    await produceOk(log, ['e']);
    assert.equal((await readAll(log)).length, 11);
  }
});

type HeldSyncs = { started: () => number; held: () => number; release: (err?: Error) => void; restore: () => void };

/**
 * Holds the flushes of this process (FileHandle `datasync` or `sync`, of the files `which` picks by path; every file
 * when it is not given) until the test lets them go (or fails them), so that a test can see what happens while the
 * disk is flushing. The files, the writes and the log are real; only the flush is made to take its time.
 */
async function holdSyncs(t: TestContext, dir: string, method: 'datasync' | 'sync', which?: (file: string) => boolean): Promise<HeldSyncs> {
  const probe = await open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as Record<typeof method, (this: { fd: number }) => Promise<void>>;
  await probe.close();
  await rm(path.join(dir, 'probe'));
  const original = proto[method];
  let started = 0;
  let gates: Array<(err?: Error) => void> = [];
  proto[method] = function (this: { fd: number }) {
    if (which !== undefined && !which(readlinkSync(`/proc/self/fd/${this.fd}`))) return original.call(this);
    started++;
    return new Promise<void>((resolve, reject) => {
      gates.push((err) => (err ? reject(err) : resolve(original.call(this))));
    });
  };
  const release = (err?: Error) => {
    const now = gates;
    gates = [];
    for (const go of now) go(err);
  };
  const restore = () => {
    proto[method] = original;
    release();
  };
  t.after(restore);
  return { started: () => started, held: () => gates.length, release, restore };
}

/** Holds the fdatasyncs of index files (a sealing segment's); log files sync as usual. Reads /proc/self/fd (Linux). */
const holdIndexSyncs = (t: TestContext, dir: string) => holdSyncs(t, dir, 'datasync', (file) => /\.(index|timeindex)$/.test(file));

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

void test('fsync=always: appends that arrive during an fdatasync are written at once and answered after the next one; readers see only synced records', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { fsync: { mode: 'always' } });
  const disk = await holdSyncs(t, dir, 'datasync');
  const logFile = path.join(dir, (await readdir(dir)).find((n) => n.endsWith('.log'))!);
  const answered: string[] = [];
  const idem = (baseSequence: number, value: string): Partial<EncodeBatchOptions> => ({ producerId: 7, producerEpoch: 0, baseSequence, records: [{ key: null, value }] });

  const first = produce(log, [], idem(0, 'first')).then((r) => (answered.push('first'), r));
  await tick();
  assert.equal(disk.started(), 1, 'the first append is being synced');
  const firstBytes = (await stat(logFile)).size;
  const second = produce(log, [], idem(1, 'second')).then((r) => (answered.push('second'), r));
  await tick();
  assert.ok((await stat(logFile)).size > firstBytes, 'the second append is written while the first one is being synced');
  assert.deepEqual([...answered], [], 'nothing is answered before its fdatasync');
  assert.equal(log.logEndOffset, 0, 'readers see nothing that is not synced');
  assert.equal(await log.offsetForTimestamp(0), null, 'nor does a lookup by time');

  disk.release();
  assert.equal((await first).ok, true);
  await tick();
  assert.deepEqual([...answered], ['first'], 'the second waits for an fdatasync that started after it was written');
  assert.equal(log.logEndOffset, 1);
  assert.equal(disk.started(), 2);
  // A retry of the second batch (same producer and sequence) is answered with it, not before.
  const retry = produce(log, [], idem(1, 'second')).then((r) => (answered.push('retry'), r));
  await tick();
  assert.deepEqual([...answered], ['first']);

  disk.release();
  const [s, r] = await Promise.all([second, retry]);
  assert.ok(s.ok && r.ok);
  assert.equal(r.duplicate, true);
  assert.equal(r.baseOffset, s.baseOffset);
  assert.deepEqual((await readAll(log)).map((x) => x.value), ['first', 'second']);
  disk.restore();
});

void test('fsync=always: a failed fdatasync refuses the appends waiting for it and every later one; the reopened log has what was acknowledged', async (t) => {
  const dir = await tempDir(t);
  const first = await PartitionLog.open(dir, { ...BASE_CONFIG, fsync: { mode: 'always' } });
  await produceOk(first, ['kept']);
  const disk = await holdSyncs(t, dir, 'datasync');
  const waiting = produce(first, ['lost-1']);
  await tick();
  const alsoWaiting = produce(first, ['lost-2']);
  await tick();
  disk.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  for (const p of [waiting, alsoWaiting]) {
    await assert.rejects(p, (err: unknown) => err instanceof BrokerError && err.code === BrokerErrorCode.LOG_IO_FAILED && /fsync of .*EIO/.test(err.message));
  }
  await assert.rejects(produce(first, ['after']), (err: unknown) => err instanceof BrokerError && err.code === BrokerErrorCode.LOG_IO_FAILED);
  assert.equal(first.logEndOffset, 1, 'nothing past the last synced append becomes readable');
  disk.restore();
  await first.close();

  const reopened = await openLog(t, dir, { fsync: { mode: 'always' } });
  const values = (await readAll(reopened)).map((x) => x.value);
  assert.equal(values[0], 'kept');
  // What the failed flush covered may or may not have reached the disk; it was never acknowledged either way.
  assert.ok(values.every((v) => ['kept', 'lost-1', 'lost-2'].includes(v)), values.join(','));
  assert.deepEqual((await produceOk(reopened, ['next'])).ok, true);
});

/** Resolves with the promise's value, or rejects if it takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms))]);
}

void test('fsync=always: appends go on into a new segment while the old one is sealed, and the sealed indexes are whole after close', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const dir = await tempDir(t);
  const config: Partial<LogConfig> = { fsync: { mode: 'always' }, segmentBytes: 400, indexIntervalBytes: 50 };
  const log = await PartitionLog.open(dir, { ...BASE_CONFIG, ...config });
  const disk = await holdIndexSyncs(t, dir);
  const expected: string[] = [];
  // Until the first roll, and on into the new segment, with the old segment's index syncs held.
  let i = 0;
  while ((await logFiles(dir)).length < 2 || disk.held() === 0) {
    const vals = values(2, `a${i++}`);
    await within(produceOk(log, vals), 2000, `append ${i}`);
    expected.push(...vals);
  }
  for (let k = 0; k < 2; k++) {
    const vals = values(1, `b${k}`);
    await within(produceOk(log, vals), 2000, 'an append into the new segment');
    expected.push(...vals);
  }
  assert.equal((await logFiles(dir)).length, 2, 'still in the second segment');
  disk.restore();
  // More rolls, each sealing the one before.
  for (let k = 0; k < 30; k++) {
    const vals = values(3, `c${k}`);
    await produceOk(log, vals);
    expected.push(...vals);
  }
  await log.close();
  const segments = await logFiles(dir);
  assert.ok(segments.length > 4, `expected several segments, got ${segments.length}`);

  // Every sealed segment's time index ends with the closing entry (relative offset = the next segment's base).
  const timeIndexes = await logFiles(dir, '.timeindex');
  for (let k = 0; k + 1 < segments.length; k++) {
    const ti = await readFile(path.join(dir, timeIndexes[k]!));
    assert.ok(ti.length >= 12 && ti.length % 12 === 0, `${timeIndexes[k]} has ${ti.length} bytes`);
    const base = Number(segments[k]!.slice(0, 20));
    const next = Number(segments[k + 1]!.slice(0, 20));
    assert.equal(ti.readInt32BE(ti.length - 4), next - base, `${timeIndexes[k]} ends at the segment's end`);
  }
  const reopened = await openLog(t, dir, config);
  assert.deepEqual((await readAll(reopened)).map((x) => x.value), expected);
});

void test('fsync=always: the first answer from a new segment waits for the sync of its directory entry', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir, { fsync: { mode: 'always' }, segmentBytes: 400 });
  const real = realpathSync(dir);
  const dirSyncs = await holdSyncs(t, dir, 'sync', (file) => file === real);
  let i = 0;
  while ((await logFiles(dir)).length < 2) {
    let answered = false;
    const r = produceOk(log, values(2, `a${i++}`)).finally(() => (answered = true));
    await tick();
    if ((await logFiles(dir)).length < 2) {
      await r;
      continue;
    }
    // This append rolled the log: its records are in the new segment, whose file is not yet durable.
    await tick();
    assert.equal(answered, false, 'answered before the directory entry of its segment was synced');
    assert.equal(dirSyncs.held(), 1, 'the directory sync started');
    dirSyncs.release();
    const { baseOffset } = await r;
    assert.equal(baseOffset, Number((await logFiles(dir))[1]!.slice(0, 20)));
  }
});

void test('fsync=always: a sealing that fails refuses later appends; the reopened log has every acknowledged record', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const dir = await tempDir(t);
  const config: Partial<LogConfig> = { fsync: { mode: 'always' }, segmentBytes: 400 };
  const log = await PartitionLog.open(dir, { ...BASE_CONFIG, ...config });
  const disk = await holdIndexSyncs(t, dir);
  const acknowledged: string[] = [];
  let i = 0;
  while (disk.held() === 0) {
    const vals = values(2, `a${i++}`);
    await produceOk(log, vals);
    acknowledged.push(...vals);
  }
  disk.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await tick();
  await assert.rejects(produce(log, ['after']), (err: unknown) => err instanceof BrokerError && err.code === BrokerErrorCode.LOG_IO_FAILED && /sealing segment .*EIO/.test(err.message));
  await log.close();

  const reopened = await openLog(t, dir, config);
  assert.deepEqual((await readAll(reopened)).map((x) => x.value), acknowledged);
  await produceOk(reopened, ['next']);
});

void test('a retry that arrives with its original is answered with it, or refused with it when the write fails', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir);
  const batch = (value: string): Partial<EncodeBatchOptions> => ({ producerId: 9, producerEpoch: 0, baseSequence: 0, records: [{ key: null, value }] });

  // The write of the group holding the original fails once (a full disk, say).
  const probe = await open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const write = proto.write;
  let failNext = true;
  proto.write = function (this: unknown, ...args: unknown[]) {
    if (failNext) {
      failNext = false;
      return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    }
    return write.apply(this, args);
  };
  t.after(() => {
    proto.write = write;
  });
  const original = produce(log, [], batch('a'));
  const retry = produce(log, [], batch('a'));
  for (const p of [original, retry]) {
    await assert.rejects(p, (err: unknown) => err instanceof BrokerError && err.code === BrokerErrorCode.LOG_IO_FAILED && /ENOSPC/.test(err.message));
  }
  assert.equal(log.logEndOffset, 0);

  // Sent again once the disk has room: written once, and the retry beside it gets the same offsets.
  const [again, againRetry] = await Promise.all([produce(log, [], batch('a')), produce(log, [], batch('a'))]);
  assert.ok(again.ok && againRetry.ok);
  assert.deepEqual([again.baseOffset, again.duplicate], [0, false]);
  assert.deepEqual([againRetry.baseOffset, againRetry.duplicate], [0, true]);
  assert.deepEqual((await readAll(log)).map((x) => x.value), ['a']);
});
