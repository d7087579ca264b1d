// Record batch v2: header fields, Produce-time validation of good and bad batches, offset rewriting, and record decoding
// for every codec, with compressed bytes made by encoders independent of ours (node:zlib, the wasm codecs, the lz4 CLI).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { lz4Compress, snappyCompress } from '@platformatic/wasm-utils';
import { crc32c } from '../../src/kafka/crc32c.ts';
import { KafkaCodecError, KafkaErrorCode } from '../../src/kafka/errors.ts';
import {
  BatchAttribute,
  decodeRecords,
  encodeRecordBatch,
  forEachRecord,
  nextOffsetAfter,
  readRecordKeyAndHeaders,
  encodeRecords,
  readBatchHeader,
  setBatchBaseOffset,
  setBatchLeaderEpoch,
  validateBatches,
  type RecordInput,
} from '../../src/kafka/record-batch.ts';

const OPTS = { maxMessageBytes: 1 << 20, allowZstd: true };

function recrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}

/** A batch of `records` whose body is `body` (compressed by someone else) under codec `codec`. */
function batchWithBody(records: RecordInput[], codec: number, body: Buffer): Buffer {
  const plain = encodeRecordBatch({ records, baseOffset: 0 });
  const out = Buffer.concat([plain.subarray(0, 61), body]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(codec, 21);
  return recrc(out);
}

const SAMPLE: RecordInput[] = [
  { key: 'k0', value: 'hello', timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] },
  { key: null, value: 'world', timestamp: 1_700_000_000_005 },
  { key: 'k2', value: null, timestamp: 1_700_000_000_002, headers: [{ key: 'nullh', value: null }] },
];

function plainSection(records: RecordInput[]): Buffer {
  return encodeRecords(records, Math.min(...records.map((r) => r.timestamp!)));
}

async function assertSample(batch: Buffer, baseOffset = 0): Promise<void> {
  const recs = await decodeRecords(batch);
  assert.equal(recs.length, 3);
  assert.deepEqual(
    recs.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
    [
      [baseOffset, 1_700_000_000_000, 'k0', 'hello'],
      [baseOffset + 1, 1_700_000_000_005, null, 'world'],
      [baseOffset + 2, 1_700_000_000_002, 'k2', null],
    ],
  );
  assert.deepEqual(recs[0]!.headers, [{ key: 'h', value: Buffer.from('v') }]);
  assert.deepEqual(recs[2]!.headers, [{ key: 'nullh', value: null }]);
}

void test('readBatchHeader reads every field of an encoded batch', () => {
  const b = encodeRecordBatch({ records: SAMPLE, baseOffset: 42, producerId: 7, producerEpoch: 3, baseSequence: 11 });
  const h = readBatchHeader(b, 0);
  assert.equal(h.baseOffset, 42);
  assert.equal(h.byteLength, b.length);
  assert.equal(h.batchLength, b.length - 12);
  assert.equal(h.magic, 2);
  assert.equal(h.attributes, 0);
  assert.equal(h.lastOffsetDelta, 2);
  assert.equal(h.recordCount, 3);
  assert.equal(h.baseTimestamp, 1_700_000_000_000);
  assert.equal(h.maxTimestamp, 1_700_000_000_005);
  assert.equal(h.producerId, 7);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 11);
  assert.equal(h.crc, crc32c(b, 21));
});

void test('validateBatches accepts one or several good batches', () => {
  const a = encodeRecordBatch({ records: SAMPLE });
  const b = encodeRecordBatch({ records: [{ key: null, value: 'x' }], compression: 'gzip' });
  const one = validateBatches(a, OPTS);
  assert.ok(one.ok);
  assert.equal(one.batches.length, 1);
  const two = validateBatches(Buffer.concat([a, b]), OPTS);
  assert.ok(two.ok);
  assert.deepEqual(
    two.batches.map((h) => h.byteLength),
    [a.length, b.length],
  );
});

function expectError(records: Buffer, code: number, pattern: RegExp, opts = OPTS): void {
  const r = validateBatches(records, opts);
  assert.equal(r.ok, false, 'expected the batch to be refused');
  if (r.ok) return;
  assert.equal(r.errorCode, code, r.message);
  assert.match(r.message, pattern);
}

void test('validateBatches refuses each kind of bad batch with the Kafka error a client expects', () => {
  const good = (): Buffer => encodeRecordBatch({ records: SAMPLE });

  expectError(Buffer.alloc(0), KafkaErrorCode.CORRUPT_MESSAGE, /empty/);

  const v1 = good();
  v1.writeInt8(1, 16);
  expectError(v1, KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, /magic 1/);

  const junkMagic = good();
  junkMagic.writeInt8(9, 16);
  expectError(junkMagic, KafkaErrorCode.CORRUPT_MESSAGE, /magic 9/);

  const short = good();
  short.writeInt32BE(20, 8);
  expectError(short, KafkaErrorCode.CORRUPT_MESSAGE, /batchLength 20/);

  const long = good();
  long.writeInt32BE(long.length, 8);
  expectError(long, KafkaErrorCode.CORRUPT_MESSAGE, /past the end/);

  expectError(good().subarray(0, 40), KafkaErrorCode.CORRUPT_MESSAGE, /past the end/);
  expectError(Buffer.concat([good(), good().subarray(0, 10)]), KafkaErrorCode.CORRUPT_MESSAGE, /batch 1 .*too few/);

  const flipped = good();
  flipped[flipped.length - 1]! ^= 0x01;
  expectError(flipped, KafkaErrorCode.CORRUPT_MESSAGE, /CRC-32C mismatch/);

  const codec6 = good();
  codec6.writeInt16BE(6, 21);
  expectError(recrc(codec6), KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, /codec 6/);

  const zstd = encodeRecordBatch({ records: SAMPLE, compression: 'zstd' });
  assert.ok(validateBatches(zstd, OPTS).ok);
  expectError(zstd, KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, /zstd/, { ...OPTS, allowZstd: false });

  expectError(good(), KafkaErrorCode.MESSAGE_TOO_LARGE, /max\.message\.bytes 50/, { ...OPTS, maxMessageBytes: 50 });

  const noRecords = good();
  noRecords.writeInt32BE(0, 57);
  noRecords.writeInt32BE(-1, 23);
  expectError(recrc(noRecords), KafkaErrorCode.CORRUPT_MESSAGE, /recordCount 0/);

  const badDelta = good();
  badDelta.writeInt32BE(5, 23);
  expectError(recrc(badDelta), KafkaErrorCode.CORRUPT_MESSAGE, /lastOffsetDelta 5/);

  // The second of two batches is the bad one: the whole request is refused, and the message says which.
  const second = good();
  second[70]! ^= 0xff;
  expectError(Buffer.concat([good(), second]), KafkaErrorCode.CORRUPT_MESSAGE, /batch 1 .*CRC/);
});

void test('base offset and leader epoch are rewritten in place without breaking the CRC', async () => {
  const b = encodeRecordBatch({ records: SAMPLE });
  setBatchBaseOffset(b, 0, 2 ** 40 + 5);
  setBatchLeaderEpoch(b, 0, 0);
  const h = readBatchHeader(b, 0);
  assert.equal(h.baseOffset, 2 ** 40 + 5);
  assert.equal(h.partitionLeaderEpoch, 0);
  assert.ok(validateBatches(b, OPTS).ok);
  await assertSample(b, 2 ** 40 + 5);
});

void test('decodes uncompressed, gzip and zstd batches', async () => {
  await assertSample(encodeRecordBatch({ records: SAMPLE }));
  await assertSample(encodeRecordBatch({ records: SAMPLE, compression: 'gzip' }));
  await assertSample(encodeRecordBatch({ records: SAMPLE, compression: 'zstd' }));
  // Bodies compressed directly by node:zlib, not through our encoder.
  await assertSample(batchWithBody(SAMPLE, 1, zlib.gzipSync(plainSection(SAMPLE))));
  await assertSample(batchWithBody(SAMPLE, 4, zlib.zstdCompressSync(plainSection(SAMPLE))));
});

void test('decodes snappy batches, raw and xerial-framed', async () => {
  const plain = plainSection(SAMPLE);
  await assertSample(batchWithBody(SAMPLE, 2, snappyCompress(plain)));
  // xerial: magic, version 1, compatible 1, then [int32 length, raw snappy chunk]... (split into two chunks here)
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const chunks = [plain.subarray(0, 20), plain.subarray(20)].map((c) => {
    const z = snappyCompress(Buffer.from(c));
    const len = Buffer.alloc(4);
    len.writeInt32BE(z.length);
    return Buffer.concat([len, z]);
  });
  await assertSample(batchWithBody(SAMPLE, 2, Buffer.concat([header, ...chunks])));

  // A larger, repetitive payload exercises every copy form the encoder picks.
  const many: RecordInput[] = Array.from({ length: 4000 }, (_, i) => ({ key: `k${i % 30}`, value: `v${i} ${'xyz'.repeat(i % 9)}`, timestamp: 5 + i }));
  const recs = await decodeRecords(batchWithBody(many, 2, snappyCompress(plainSection(many))));
  assert.deepEqual(
    recs.map((r) => r.value!.toString()),
    many.map((r) => r.value),
  );
});

void test('decodes LZ4 frames with independent and linked blocks, checksums and content size', async () => {
  const plain = plainSection(SAMPLE);
  await assertSample(batchWithBody(SAMPLE, 3, lz4Compress(plain)));

  // Many records spread over several 64 KB blocks, so linked blocks really refer back across block boundaries.
  const many: RecordInput[] = Array.from({ length: 8000 }, (_, i) => ({
    key: `key-${i % 50}`,
    value: `value ${i} ${'abcdefghij'.repeat(i % 7)} ${i * 7919}`,
    timestamp: 1_700_000_000_000 + i,
  }));
  const manyPlain = plainSection(many);
  assert.ok(manyPlain.length > 3 * 65536);
  const check = async (body: Buffer): Promise<void> => {
    const recs = await decodeRecords(batchWithBody(many, 3, body));
    assert.equal(recs.length, many.length);
    assert.equal(recs[7999]!.value!.toString(), many[7999]!.value);
    assert.equal(recs[1234]!.key!.toString(), many[1234]!.key);
    assert.equal(recs[7999]!.timestamp, 1_700_000_000_000 + 7999);
  };
  await check(lz4Compress(manyPlain));
  if (!existsSync('/usr/bin/lz4')) return;
  for (const flags of [['-BD'], ['-BD', '-BX', '--content-size'], ['-BI', '--no-frame-crc'], ['-9', '-BD']]) {
    await check(execFileSync('lz4', [...flags, '-B4', '-c'], { input: manyPlain, stdio: ['pipe', 'pipe', 'ignore'] }));
  }
});

void test('decodes hand-made snappy elements: long literals, 4-byte offsets and overlapping copies', async () => {
  const records: RecordInput[] = [{ key: null, value: 'ab'.repeat(40), timestamp: 1 }];
  const plain = plainSection(records);
  // Literal of everything up to the value, then "ab" as a literal and the rest as an overlapping copy with a 4-byte offset.
  const valueStart = plain.indexOf('abab');
  const prefix = plain.subarray(0, valueStart + 2);
  const restLen = plain.length - prefix.length - 0;
  const copyLen = 78;
  assert.equal(restLen, copyLen + 1); // one trailing byte: the header count
  const parts: number[] = [];
  let n = plain.length;
  while (n >= 0x80) {
    parts.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  parts.push(n);
  parts.push(60 << 2, prefix.length - 1, ...prefix); // literal with a one-byte length
  for (let left = copyLen; left > 0; ) {
    const len = Math.min(left, 64);
    parts.push(((len - 1) << 2) | 3, 2, 0, 0, 0); // copy, 4-byte offset 2
    left -= len;
  }
  parts.push(0 << 2, plain[plain.length - 1]!);
  const recs = await decodeRecords(batchWithBody(records, 2, Buffer.from(parts)));
  assert.equal(recs[0]!.value!.toString(), 'ab'.repeat(40));
});

void test('a LogAppendTime batch reports its maxTimestamp for every record', async () => {
  const b = encodeRecordBatch({ records: SAMPLE });
  b.writeInt16BE(0x08, 21);
  b.writeBigInt64BE(1_800_000_000_000n, 35);
  const recs = await decodeRecords(recrc(b));
  assert.deepEqual(
    recs.map((r) => r.timestamp),
    [1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000],
  );
});

void test('bad compressed bytes are a KafkaCodecError, not a crash', async () => {
  const plain = plainSection(SAMPLE);
  const cases: Array<[number, Buffer]> = [
    [1, Buffer.from('not gzip at all')],
    [2, snappyCompress(plain).subarray(0, 10)],
    [2, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00])],
    [3, lz4Compress(plain).subarray(0, 12)],
    [3, Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0x05, 0x00, 0x00, 0x00, 0x1f, 0xff, 0xff, 0xff, 0x7f])],
    [4, Buffer.from('not zstd')],
    [7, plain],
  ];
  for (const [codec, body] of cases) {
    await assert.rejects(decodeRecords(batchWithBody(SAMPLE, codec, body)), KafkaCodecError, `codec ${codec}`);
  }
  // Records that claim more than the section holds.
  const truncated = batchWithBody(SAMPLE, 0, plain.subarray(0, plain.length - 3));
  await assert.rejects(decodeRecords(truncated), KafkaCodecError);
});

// Walking fetched batches in place (the sink's reading path).

type Seen = { offset: number; timestampMs: number; value: string | null };

function walk(records: Buffer, fromOffset: number): { seen: Seen[]; nextOffset: number } {
  const seen: Seen[] = [];
  const result = forEachRecord(records, fromOffset, (buf, offset, timestampMs, valueStart, valueLength) => {
    seen.push({ offset, timestampMs, value: valueLength < 0 ? null : buf.toString('utf8', valueStart, valueStart + valueLength) });
  });
  assert.equal(result.records, seen.length);
  return { seen, nextOffset: result.nextOffset };
}

test('forEachRecord: every record of whole batches in order, any codec; from an offset inside a batch; a cut-off batch is left for later', () => {
  const a = encodeRecordBatch({ baseOffset: 0, records: [0, 1, 2].map((i) => ({ key: null, value: `v${i}`, timestamp: 1000 + i })) });
  const b = encodeRecordBatch({ baseOffset: 3, records: [3, 4].map((i) => ({ key: `k${i}`, value: i === 4 ? null : `v${i}`, timestamp: 2000 + i })), compression: 'gzip' });
  const c = encodeRecordBatch({ baseOffset: 5, records: [{ key: null, value: 'v5', timestamp: 3000 }], compression: 'zstd' });
  const all = walk(Buffer.concat([a, b, c]), 0);
  assert.deepEqual(all.seen, [
    { offset: 0, timestampMs: 1000, value: 'v0' },
    { offset: 1, timestampMs: 1001, value: 'v1' },
    { offset: 2, timestampMs: 1002, value: 'v2' },
    { offset: 3, timestampMs: 2003, value: 'v3' },
    { offset: 4, timestampMs: 2004, value: null },
    { offset: 5, timestampMs: 3000, value: 'v5' },
  ]);
  assert.equal(all.nextOffset, 6);
  assert.equal(nextOffsetAfter(Buffer.concat([a, b, c])), 6, 'the same end from the batch headers alone');
  // A fetch may start inside a batch: the records before the position are not shown again.
  assert.deepEqual(walk(Buffer.concat([a, b]), 2).seen.map((s) => s.offset), [2, 3, 4]);
  // A broker cuts its answer at the byte limit: the partial batch is not walked, and the next fetch starts at it.
  const cut = walk(Buffer.concat([a, b.subarray(0, b.length - 7)]), 0);
  assert.deepEqual(cut.seen.map((s) => s.offset), [0, 1, 2]);
  assert.equal(cut.nextOffset, 3);
  assert.equal(nextOffsetAfter(Buffer.concat([a, b.subarray(0, b.length - 7)])), 3);
  assert.deepEqual(walk(b.subarray(0, 30), 0), { seen: [], nextOffset: -1 });
  assert.equal(nextOffsetAfter(b.subarray(0, 30)), -1);
});

test('forEachRecord: control batches are skipped but moved past; key and headers of a record on request; bad bytes throw a codec error', () => {
  const marker = encodeRecordBatch({ baseOffset: 7, records: [{ key: 'ctl', value: 'x' }], transactional: true });
  marker.writeInt16BE(marker.readInt16BE(21) | BatchAttribute.CONTROL, 21);
  const data = encodeRecordBatch({ baseOffset: 8, records: [{ key: 'order-1', value: '{"id":1}', headers: [{ key: 'trace', value: 'abc' }, { key: 'empty', value: null }] }] });
  let kept: { key: Buffer | null; headers: { key: string; value: Buffer | null }[] } | null = null;
  const result = forEachRecord(Buffer.concat([marker, data]), 0, (buf, offset, _ts, _vs, _vl, recordStart, recordEnd) => {
    assert.equal(offset, 8, 'the control record is not shown');
    kept = readRecordKeyAndHeaders(buf, recordStart, recordEnd);
  });
  assert.equal(result.nextOffset, 9);
  assert.deepEqual(kept, { key: Buffer.from('order-1'), headers: [{ key: 'trace', value: Buffer.from('abc') }, { key: 'empty', value: null }] });

  const broken = Buffer.from(data);
  broken[61] = 0x7e; // the first record's length (zigzag 63) now runs past its batch
  assert.throws(() => forEachRecord(broken, 0, () => undefined), (err: unknown) => err instanceof KafkaCodecError && /runs past/.test(err.message));
  const badCrc = Buffer.from(data);
  badCrc[badCrc.indexOf('{"id":1}') + 6]! ^= 0x01; // a value byte: the record still parses, only the CRC tells
  assert.doesNotThrow(() => forEachRecord(badCrc, 0, () => undefined));
  assert.throws(() => forEachRecord(badCrc, 0, () => undefined, true), /CRC-32C/);
});
