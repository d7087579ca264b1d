// Segments written with zeros in advance (broker.preallocate, fsync=always): the spare file is made while the active
// segment fills and becomes the next segment at the roll; appends overwrite it; sealed and closed segments end at
// their last batch; a log copied mid-write (a crash) opens with every acknowledged batch and the zeros cut, without
// calling them a torn tail; an idempotent producer's retry is still recognized after such a crash.
import assert from 'node:assert/strict';
import { cp, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeRecords, encodeRecordBatch, readBatchHeader, validateBatches, type EncodeBatchOptions } from '../../src/kafka/record-batch.ts';
import { PartitionLog, type AppendResult, type LogConfig } from '../../src/broker/log/index.ts';
import { SPARE_FILE } from '../../src/broker/log/partition-log.ts';

const CONFIG: LogConfig = {
  segmentBytes: 256 << 10,
  retentionMs: -1,
  retentionBytes: -1,
  maxMessageBytes: 1 << 20,
  fsync: { mode: 'always' },
  indexIntervalBytes: 4096,
  preallocate: true,
};

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-prealloc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openLog(t: TestContext, dir: string, config: Partial<LogConfig> = {}): Promise<PartitionLog> {
  const log = await PartitionLog.open(dir, { ...CONFIG, ...config });
  t.after(() => log.close());
  return log;
}

async function produce(log: PartitionLog, value: string, opts: Partial<EncodeBatchOptions> = {}): Promise<Extract<AppendResult, { ok: true }>> {
  const bytes = encodeRecordBatch({ records: [{ key: null, value, timestamp: 1_000 }], ...opts });
  const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
  assert.ok(v.ok);
  const r = await log.append(bytes, v.batches);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r;
}

async function readAll(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records } = await log.read(next, 1 << 20);
    assert.ok(records.length > 0, `no progress at offset ${next}`);
    for (let pos = 0; pos < records.length; ) {
      const h = readBatchHeader(records, pos);
      for (const r of await decodeRecords(records.subarray(pos, pos + h.byteLength))) if (r.offset >= next) out.push(r.value!.toString());
      next = h.baseOffset + h.lastOffsetDelta + 1;
      pos += h.byteLength;
    }
  }
  return out;
}

async function segmentLogs(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{20}\.log$/.test(f)).sort();
}

async function sizeOf(file: string): Promise<number> {
  return (await stat(file)).size;
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await stat(file).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`${file} did not appear within 5 s`);
}

/** Appends `value`-sized records until the active segment holds `fraction` of segmentBytes; returns the values. */
async function fillTo(log: PartitionLog, segmentBytes: number, fraction: number, prefix: string, valueBytes = 4000): Promise<string[]> {
  const written: string[] = [];
  const before = log.sizeBytes;
  for (let i = 0; log.sizeBytes - before < segmentBytes * fraction; i++) {
    const v = `${prefix}-${i}-`.padEnd(valueBytes, 'x');
    await produce(log, v);
    written.push(v);
  }
  return written;
}

void test('the next segment is zeroed while the active one fills, appends overwrite it after the roll, and sealed or closed segments end at their last batch', async (t) => {
  const dir = await tempDir(t);
  const S = CONFIG.segmentBytes;
  const log = await openLog(t, dir);
  const expected = await fillTo(log, S, 0.2, 'a');
  assert.equal(await stat(path.join(dir, SPARE_FILE)).then(() => true, () => false), false, 'nothing is zeroed below a quarter of a segment');
  expected.push(...(await fillTo(log, S, 0.6, 'b')));
  await waitForFile(path.join(dir, SPARE_FILE));
  assert.equal(await sizeOf(path.join(dir, SPARE_FILE)), S, 'the spare is a whole segment of zeros');
  const zeros = await open(path.join(dir, SPARE_FILE));
  const probe = Buffer.alloc(S);
  await zeros.read(probe, 0, S, 0);
  await zeros.close();
  assert.ok(probe.every((b) => b === 0));

  // Past the roll: the new segment's file is the spare, as long as a segment, with the batches at its start.
  while ((await segmentLogs(dir)).length < 2) expected.push(...(await fillTo(log, S, 0.01, 'c')));
  const [first, second] = await segmentLogs(dir);
  assert.equal(await stat(path.join(dir, SPARE_FILE)).then(() => true, () => false), false, 'the spare became the new segment');
  assert.equal(await sizeOf(path.join(dir, second!)), S, 'the new segment file was written ahead');
  const firstSize = await sizeOf(path.join(dir, first!));
  assert.ok(firstSize <= S && firstSize > S * 0.9, `the sealed segment holds its batches only: ${firstSize} bytes`);
  expected.push(...(await fillTo(log, S, 0.1, 'd')));
  assert.equal(await sizeOf(path.join(dir, second!)), S, 'appends overwrite the zeros instead of growing the file');
  assert.deepEqual(await readAll(log), expected);

  // The next roll seals the segment made from the spare: its file is cut back to its batches.
  while ((await segmentLogs(dir)).length < 3) expected.push(...(await fillTo(log, S, 0.05, 'e')));
  await log.flush();
  const secondSize = await sizeOf(path.join(dir, second!));
  assert.ok(secondSize < S && secondSize > S * 0.9, `the sealed segment made from the spare holds its batches only: ${secondSize} bytes`);
  await log.close();
  let total = 0;
  for (const f of await segmentLogs(dir)) total += await sizeOf(path.join(dir, f));
  assert.equal(total, log.sizeBytes, 'closed segments end at their last batch');
  const again = await openLog(t, dir);
  assert.equal(again.recovery.truncatedBytes, 0);
  assert.deepEqual(await readAll(again), expected);
  assert.equal((await produce(again, 'after')).baseOffset, expected.length);
});

void test('a log copied while an adopted segment is being written (a crash) opens with every batch and its zeros cut, not called torn', async (t) => {
  const dir = await tempDir(t);
  const S = CONFIG.segmentBytes;
  const log = await openLog(t, path.join(dir, 'live'));
  const expected = await fillTo(log, S, 0.8, 'a');
  await waitForFile(path.join(dir, 'live', SPARE_FILE));
  while ((await segmentLogs(path.join(dir, 'live'))).length < 2) expected.push(...(await fillTo(log, S, 0.01, 'b')));
  expected.push(...(await fillTo(log, S, 0.05, 'c')));
  await log.flush();
  // Every append above is acknowledged; the files as they are now are what a machine crash would leave.
  await cp(path.join(dir, 'live'), path.join(dir, 'crashed'), { recursive: true });
  const [, active] = await segmentLogs(path.join(dir, 'crashed'));
  assert.equal(await sizeOf(path.join(dir, 'crashed', active!)), S);

  const crashed = await openLog(t, path.join(dir, 'crashed'));
  assert.deepEqual(crashed.recovery, { truncatedBytes: 0, reason: null }, 'zeros after the last batch are not a torn tail');
  assert.deepEqual(await readAll(crashed), expected);
  assert.equal(await sizeOf(path.join(dir, 'crashed', active!)), crashed.sizeBytes - (await sizeOf(path.join(dir, 'crashed', (await segmentLogs(path.join(dir, 'crashed')))[0]!))));
  assert.equal((await produce(crashed, 'after')).baseOffset, expected.length);

  // Half a batch written over the zeros before the crash is a torn tail: cut, and reported with its own length.
  await cp(path.join(dir, 'live'), path.join(dir, 'torn'), { recursive: true });
  await crashed.close();
  const liveSize = log.sizeBytes - (await sizeOf(path.join(dir, 'torn', (await segmentLogs(path.join(dir, 'torn')))[0]!)));
  const fh = await open(path.join(dir, 'torn', active!), 'r+');
  const half = encodeRecordBatch({ records: [{ key: null, value: 'lost'.padEnd(500, '!'), timestamp: 1_000 }] }).subarray(0, 300);
  await fh.write(half, 0, half.length, liveSize);
  await fh.close();
  const torn = await openLog(t, path.join(dir, 'torn'));
  assert.equal(torn.recovery.truncatedBytes, 300);
  assert.match(torn.recovery.reason ?? '', /cut off|CRC|batchLength/);
  assert.deepEqual(await readAll(torn), expected);
});

void test("after a crash in a written-ahead segment, a retry of the previous segment's last batch is still answered as a duplicate", async (t) => {
  const dir = await tempDir(t);
  // Larger than the 8 MiB below which opening also replays the previous segment's producer state: the zeros must
  // not make the active segment look as if it held that much.
  const S = 9 << 20;
  const log = await openLog(t, path.join(dir, 'live'), { segmentBytes: S });
  await fillTo(log, S, 0.8, 'fill', 60_000);
  await waitForFile(path.join(dir, 'live', SPARE_FILE));
  const idem = (seq: number): Partial<EncodeBatchOptions> => ({
    producerId: 7,
    producerEpoch: 0,
    baseSequence: seq,
    records: [{ key: null, value: `p${seq}`.padEnd(60_000, '.'), timestamp: 1_000 }],
  });
  let seq = 0;
  let last: Extract<AppendResult, { ok: true }> | null = null;
  while ((await segmentLogs(path.join(dir, 'live'))).length < 2) last = await produce(log, '', idem(seq++));
  // The batch that rolled the log is the first of the new segment; the one before it is the previous segment's last.
  const lastSealedSeq = seq - 2;
  await produce(log, 'plain record in the new segment');
  await log.flush();
  await cp(path.join(dir, 'live'), path.join(dir, 'crashed'), { recursive: true });
  const crashed = await openLog(t, path.join(dir, 'crashed'), { segmentBytes: S });
  const retry = await produce(crashed, '', idem(lastSealedSeq));
  assert.equal(retry.duplicate, true, 'the retry is recognized');
  assert.equal(retry.baseOffset, last!.baseOffset - 1);
  assert.equal(crashed.logEndOffset, log.logEndOffset, 'nothing was written twice');
});

void test('with preallocate off, or with fsync other than always, segment files only grow as they are appended to', async (t) => {
  for (const config of [{ preallocate: false }, { fsync: { mode: 'os' } as const }]) {
    const dir = await tempDir(t);
    const log = await openLog(t, dir, config);
    await fillTo(log, CONFIG.segmentBytes, 2.2, 'x');
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith('next-segment')), JSON.stringify(config));
    let total = 0;
    for (const f of await segmentLogs(dir)) total += await sizeOf(path.join(dir, f));
    assert.equal(total, log.sizeBytes, JSON.stringify(config));
  }
});
