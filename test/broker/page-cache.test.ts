// broker.pageCache=recent: once a partition seals a segment, the segments before the one just sealed leave the page
// cache, while the newest sealed one and the active one stay; residency is read with util-linux's fincore.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { encodeRecordBatch, validateBatches } from '../../src/kafka/record-batch.ts';
import { PartitionLog, type LogConfig } from '../../src/broker/log/index.ts';
import { DROP_PIECE_BYTES, PageCacheDropper } from '../../src/broker/log/page-cache.ts';

const SEGMENT_BYTES = 1 << 20;

function config(dropCache?: (file: string) => void): LogConfig {
  return { segmentBytes: SEGMENT_BYTES, retentionMs: -1, retentionBytes: -1, maxMessageBytes: 1 << 20, fsync: { mode: 'always' }, indexIntervalBytes: 4096, ...(dropCache ? { dropCache } : {}) };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Bytes of `file` in the page cache. */
function residentBytes(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

/** Appends batches of 64 KiB of values until the log holds `segments` segments. */
async function fill(log: PartitionLog, dir: string, segments: number): Promise<string[]> {
  const value = 'v'.repeat(1000);
  for (let i = 0; i < 10_000; i++) {
    const bytes = encodeRecordBatch({ records: Array.from({ length: 64 }, () => ({ key: null, value, timestamp: 1_000 })) });
    const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
    assert.ok(v.ok);
    const r = await log.append(bytes, v.batches);
    assert.ok(r.ok);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
    if (files.length >= segments) return files.map((f) => path.join(dir, f));
  }
  throw new Error(`the log did not reach ${segments} segments`);
}

test('recent: segments older than the newest sealed one leave the page cache; the newest sealed and the active stay', async (t) => {
  const dir = await tempDir(t);
  const lines: string[] = [];
  const dropper = new PageCacheDropper({ mode: 'recent', log: (l) => lines.push(l) });
  t.after(() => dropper.close());
  const log = await PartitionLog.open(dir, config((f) => dropper.drop(f)));
  t.after(() => log.close());
  const files = await fill(log, dir, 5);
  await dropper.idle();
  const resident = files.map(residentBytes);
  // Segments 0..2 were behind the newest sealed one at the rolls to segments 2, 3 and 4.
  assert.deepEqual(resident.slice(0, 3), [0, 0, 0], `resident bytes per segment: ${resident.join(', ')}`);
  assert.ok(resident[3]! >= SEGMENT_BYTES / 2, `the newest sealed segment stays cached (${resident[3]} bytes resident)`);
  assert.ok(resident[4]! > 0, 'the active segment stays cached');
  assert.equal(dropper.dropped, 3);
  assert.deepEqual(lines, []);
  // The log still reads everything back from the dropped segments.
  const read = await log.read(0, 1 << 20);
  assert.ok(read.records.length > 0);
});

test('os: nothing is dropped', async (t) => {
  const dir = await tempDir(t);
  const dropper = new PageCacheDropper({ mode: 'os', log: () => undefined });
  assert.equal(dropper.enabled, false);
  const log = await PartitionLog.open(dir, config(dropper.enabled ? (f) => dropper.drop(f) : undefined));
  t.after(() => log.close());
  const files = await fill(log, dir, 4);
  await dropper.idle();
  for (const f of files.slice(0, 3)) assert.ok(residentBytes(f) >= SEGMENT_BYTES / 2, `${path.basename(f)} stays cached`);
  assert.equal(dropper.dropped, 0);
});

test('without a dd to run, dropping stops after one log line that says so and how to silence it', async (t) => {
  const lines: string[] = [];
  const dropper = new PageCacheDropper({ mode: 'recent', log: (l) => lines.push(l), command: 'oxbow-no-such-command' });
  t.after(() => dropper.close());
  dropper.drop('/tmp/a.log');
  dropper.drop('/tmp/b.log');
  await dropper.idle();
  dropper.drop('/tmp/c.log');
  await dropper.idle();
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /cannot run oxbow-no-such-command \(.*not found.*\).*broker\.pageCache=os/);
  assert.equal(dropper.enabled, false);
  assert.equal(dropper.dropped, 0);
});

test('a file that is gone (deleted by retention meanwhile) is not worth a log line', async (t) => {
  const lines: string[] = [];
  const dropper = new PageCacheDropper({ mode: 'recent', log: (l) => lines.push(l) });
  t.after(() => dropper.close());
  dropper.drop(path.join(os.tmpdir(), `oxbow-missing-${process.pid}.log`));
  await dropper.idle();
  assert.deepEqual(lines, []);
  assert.equal(dropper.enabled, true);
});

test('a reader catching up from the start leaves the old segments out of the page cache behind it', async (t) => {
  const dir = await tempDir(t);
  const dropper = new PageCacheDropper({ mode: 'recent', log: () => undefined });
  t.after(() => dropper.close());
  const log = await PartitionLog.open(dir, config((f) => dropper.drop(f)));
  t.after(() => log.close());
  const files = await fill(log, dir, 6);
  await dropper.idle();
  // A segment dropped less than a second ago is not dropped again behind a reader.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  let offset = 0;
  let bytes = 0;
  for (;;) {
    const r = await log.read(offset, 256 * 1024);
    if (r.records.length === 0) break;
    bytes += r.records.length;
    let pos = 0;
    while (pos + 61 <= r.records.length) {
      offset = Number(r.records.readBigInt64BE(pos)) + r.records.readInt32BE(pos + 23) + 1;
      pos += 12 + r.records.readInt32BE(pos + 8);
    }
  }
  assert.ok(bytes >= 5 * SEGMENT_BYTES * 0.9, `read ${bytes} bytes`);
  await dropper.idle();
  const resident = files.map(residentBytes);
  assert.deepEqual(resident.slice(0, 3), [0, 0, 0], `resident bytes per segment after the read: ${resident.join(', ')}`);
  for (const [i, r] of resident.slice(3).entries()) assert.ok(r > 0, `segment ${i + 3}, read or newest, is cached (${r} bytes)`);
});

test('a file larger than one piece is dropped in pieces with pauses between them, and all of it leaves the page cache', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'big.log');
  // Two and a half pieces, written and synced (dirty pages cannot be dropped), then read so that all of it is cached.
  const bytes = DROP_PIECE_BYTES * 2 + DROP_PIECE_BYTES / 2;
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.alloc(bytes, 7));
  fsyncSync(fd);
  closeSync(fd);
  readFileSync(file);
  assert.equal(residentBytes(file), bytes);
  const lines: string[] = [];
  const dropper = new PageCacheDropper({ mode: 'recent', log: (l) => lines.push(l) });
  t.after(() => dropper.close());
  const started = performance.now();
  dropper.drop(file);
  await dropper.idle();
  assert.equal(residentBytes(file), 0);
  assert.equal(dropper.dropped, 1);
  assert.deepEqual(lines, []);
  // Three pieces with a pause between each two.
  assert.ok(performance.now() - started >= 20, `dropped in ${performance.now() - started} ms`);
});
