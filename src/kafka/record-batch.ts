// Record batch v2 (magic 2): header parsing, Produce-time validation, in-place offset/epoch rewriting, record decoding
// (with gzip, snappy, lz4 and zstd decompression) and an encoder for tests and tools. No I/O.
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { crc32c } from './crc32c.ts';
import { KafkaCodecError, KafkaCodecErrorCode, KafkaErrorCode } from './errors.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

// Batch layout (offsets in bytes):
//  0 baseOffset int64 | 8 batchLength int32 (bytes after this field) | 12 partitionLeaderEpoch int32 | 16 magic int8 = 2 |
// 17 crc uint32 = CRC-32C of [21, end) | 21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64 |
// 35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32 |
// 61 records (one compressed blob of all records when the codec is not none)
export const BATCH_HEADER_BYTES = 61;
/** The bytes before batchLength's count starts: baseOffset and batchLength itself. */
export const BATCH_LOG_OVERHEAD = 12;
/** Smallest legal batchLength: the header after the batchLength field, with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD;
const CRC_START = 21;

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export const BatchAttribute = {
  COMPRESSION_MASK: 0x07,
  LOG_APPEND_TIME: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const;

export type BatchHeader = {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** Whole size of the batch on the wire and on disk: 12 + batchLength. */
  byteLength: number;
};

function int64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
}

/** Reads the 61-byte header at `pos`; the caller makes sure the bytes are there. */
export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  const batchLength = buf.readInt32BE(pos + 8);
  return {
    baseOffset: int64(buf, pos),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + 16),
    crc: buf.readUInt32BE(pos + 17),
    attributes: buf.readInt16BE(pos + 21),
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: int64(buf, pos + 27),
    maxTimestamp: int64(buf, pos + 35),
    producerId: int64(buf, pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
    byteLength: BATCH_LOG_OVERHEAD + batchLength,
  };
}

/** The CRC-32C a batch at `pos` should carry (the caller makes sure the whole batch is there). */
export function computeBatchCrc(buf: Buffer, pos: number, byteLength: number): number {
  return crc32c(buf, pos + CRC_START, pos + byteLength);
}

export function setBatchBaseOffset(buf: Buffer, pos: number, offset: number): void {
  buf.writeBigInt64BE(BigInt(offset), pos);
}

export function setBatchLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + 12);
}

export type ValidateOptions = { maxMessageBytes: number; allowZstd: boolean };
export type ValidateResult = { ok: true; batches: BatchHeader[] } | { ok: false; errorCode: number; message: string };

function invalid(errorCode: number, message: string): ValidateResult {
  return { ok: false, errorCode, message };
}

/**
 * Checks the `records` bytes of a Produce request: one or more whole v2 batches, each with a sane length, a correct CRC,
 * a known codec, a size within `maxMessageBytes`, and record counts that agree. Never throws on bad bytes.
 */
export function validateBatches(records: Buffer, opts: ValidateOptions): ValidateResult {
  const batches: BatchHeader[] = [];
  if (records.length === 0) return invalid(KafkaErrorCode.CORRUPT_MESSAGE, 'the record set is empty');
  let pos = 0;
  while (pos < records.length) {
    const left = records.length - pos;
    const where = `batch ${batches.length} at byte ${pos}`;
    if (left < 17) return invalid(KafkaErrorCode.CORRUPT_MESSAGE, `${where}: only ${left} bytes, too few for a batch header`);
    const magic = records.readInt8(pos + 16);
    if (magic !== 2) {
      // Magic 0 and 1 are real (older) formats this broker does not store; anything else is garbage.
      const code = magic === 0 || magic === 1 ? KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT : KafkaErrorCode.CORRUPT_MESSAGE;
      return invalid(code, `${where}: magic ${magic}, only record batch v2 (magic 2) is supported`);
    }
    const batchLength = records.readInt32BE(pos + 8);
    if (batchLength < MIN_BATCH_LENGTH) {
      return invalid(KafkaErrorCode.CORRUPT_MESSAGE, `${where}: batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`);
    }
    if (BATCH_LOG_OVERHEAD + batchLength > left) {
      return invalid(
        KafkaErrorCode.CORRUPT_MESSAGE,
        `${where}: batchLength ${batchLength} runs past the end of the record set (${left - BATCH_LOG_OVERHEAD} bytes left)`,
      );
    }
    const h = readBatchHeader(records, pos);
    if (h.byteLength > opts.maxMessageBytes) {
      return invalid(KafkaErrorCode.MESSAGE_TOO_LARGE, `${where}: ${h.byteLength} bytes exceeds max.message.bytes ${opts.maxMessageBytes}`);
    }
    const crc = computeBatchCrc(records, pos, h.byteLength);
    if (crc !== h.crc) {
      return invalid(
        KafkaErrorCode.CORRUPT_MESSAGE,
        `${where}: CRC-32C mismatch (stored ${h.crc.toString(16)}, computed ${crc.toString(16)})`,
      );
    }
    const codec = h.attributes & BatchAttribute.COMPRESSION_MASK;
    if (codec > Compression.ZSTD) {
      return invalid(KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `${where}: unknown compression codec ${codec}`);
    }
    if (codec === Compression.ZSTD && !opts.allowZstd) {
      return invalid(KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `${where}: zstd needs Produce v7 or later`);
    }
    if (h.recordCount < 1) {
      return invalid(KafkaErrorCode.CORRUPT_MESSAGE, `${where}: recordCount ${h.recordCount}, a batch must hold at least one record`);
    }
    if (h.lastOffsetDelta !== h.recordCount - 1) {
      return invalid(
        KafkaErrorCode.CORRUPT_MESSAGE,
        `${where}: lastOffsetDelta ${h.lastOffsetDelta} does not match recordCount ${h.recordCount}`,
      );
    }
    batches.push(h);
    pos += h.byteLength;
  }
  return { ok: true, batches };
}

// ---------------------------------------------------------------------------------------------------------------------
// Records

export type RecordHeader = { key: string; value: Buffer | null };
export type DecodedRecord = {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
};

const gunzip = promisify(zlib.gunzip);
const zstdDecompress = promisify(zlib.zstdDecompress);

function malformed(message: string): KafkaCodecError {
  return new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, message);
}

/**
 * Decodes every record of one whole batch (decompressing as needed). Offsets and timestamps are absolute; a
 * LogAppendTime batch reports its maxTimestamp for every record, as Kafka does. Throws KafkaCodecError on bad bytes.
 */
export async function decodeRecords(batch: Buffer): Promise<DecodedRecord[]> {
  if (batch.length < BATCH_HEADER_BYTES) throw malformed(`a batch needs ${BATCH_HEADER_BYTES} bytes, got ${batch.length}`);
  const h = readBatchHeader(batch, 0);
  if (h.magic !== 2) throw malformed(`magic ${h.magic}, only record batch v2 is supported`);
  if (h.byteLength > batch.length || h.batchLength < MIN_BATCH_LENGTH) {
    throw malformed(`batchLength ${h.batchLength} does not fit the ${batch.length} bytes given`);
  }
  const body = batch.subarray(BATCH_HEADER_BYTES, h.byteLength);
  const codec = h.attributes & BatchAttribute.COMPRESSION_MASK;
  let raw: Buffer;
  try {
    switch (codec) {
      case Compression.NONE:
        raw = body;
        break;
      case Compression.GZIP:
        raw = await gunzip(body);
        break;
      case Compression.SNAPPY:
        raw = snappyDecompressKafka(body);
        break;
      case Compression.LZ4:
        raw = lz4FrameDecompress(body);
        break;
      case Compression.ZSTD:
        raw = await zstdDecompress(body);
        break;
      default:
        throw malformed(`unknown compression codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof KafkaCodecError) throw err;
    throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `the batch's compressed records do not decompress (codec ${codec})`, {
      cause: err,
    });
  }
  const logAppendTime = (h.attributes & BatchAttribute.LOG_APPEND_TIME) !== 0;
  const r = new Reader(raw);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) {
    const length = r.varint32();
    if (length < 0 || length > r.remaining) throw malformed(`record ${i} length ${length} exceeds the ${r.remaining} bytes left`);
    const end = r.offset + length;
    const rr = new Reader(raw, r.offset, end);
    rr.int8(); // attributes: unused
    const timestampDelta = rr.varint();
    const offsetDelta = rr.varint32();
    const key = varBytes(rr);
    const value = varBytes(rr);
    const headerCount = rr.varint32();
    if (headerCount < 0 || headerCount > rr.remaining) throw malformed(`record ${i} header count ${headerCount} is out of range`);
    const headers: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const k = varBytes(rr);
      if (k === null) throw malformed(`record ${i} header ${j} has a null key`);
      headers.push({ key: k.toString('utf8'), value: varBytes(rr) });
    }
    r.offset = end;
    out.push({
      offset: h.baseOffset + offsetDelta,
      timestamp: logAppendTime ? h.maxTimestamp : h.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  return out;
}

function varBytes(r: Reader): Buffer | null {
  const n = r.varint32();
  if (n < 0) return null;
  return r.raw(n);
}

export type RecordInput = {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Array<{ key: string; value: Buffer | string | null }>;
  timestamp?: number;
};

export type EncodeBatchOptions = {
  baseOffset?: number;
  records: RecordInput[];
  compression?: 'none' | 'gzip' | 'zstd';
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
};

function toBytes(v: Buffer | string | null): Buffer | null {
  return v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function writeVarBytes(w: Writer, v: Buffer | null): void {
  if (v === null) {
    w.varint(-1);
    return;
  }
  w.varint(v.length).raw(v);
}

/** Encodes the records section (uncompressed) of a batch whose first timestamp is `baseTimestamp`. */
export function encodeRecords(records: RecordInput[], baseTimestamp: number, now = Date.now()): Buffer {
  const w = new Writer(256);
  const rec = new Writer(256);
  records.forEach((r, i) => {
    rec.offset = 0;
    rec.int8(0);
    rec.varint((r.timestamp ?? now) - baseTimestamp);
    rec.varint(i);
    writeVarBytes(rec, toBytes(r.key));
    writeVarBytes(rec, toBytes(r.value));
    const headers = r.headers ?? [];
    rec.varint(headers.length);
    for (const hd of headers) {
      writeVarBytes(rec, Buffer.from(hd.key, 'utf8'));
      writeVarBytes(rec, toBytes(hd.value));
    }
    w.varint(rec.offset).raw(rec.bytesWritten());
  });
  return Buffer.from(w.bytesWritten());
}

/** Builds one valid v2 batch (CreateTime, CRC set). For tests and tools; the broker never re-encodes client batches. */
export function encodeRecordBatch(opts: EncodeBatchOptions): Buffer {
  if (opts.records.length === 0) throw new Error('invariant violated: a batch needs at least one record');
  const now = Date.now();
  let baseTimestamp = Infinity;
  let maxTimestamp = -Infinity;
  for (const r of opts.records) {
    const ts = r.timestamp ?? now;
    if (ts < baseTimestamp) baseTimestamp = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  const plain = encodeRecords(opts.records, baseTimestamp, now);
  const compression = opts.compression ?? 'none';
  let body: Buffer;
  let codec: number;
  if (compression === 'gzip') {
    body = zlib.gzipSync(plain);
    codec = Compression.GZIP;
  } else if (compression === 'zstd') {
    body = zlib.zstdCompressSync(plain);
    codec = Compression.ZSTD;
  } else {
    body = plain;
    codec = Compression.NONE;
  }
  const attributes = codec | (opts.transactional === true ? BatchAttribute.TRANSACTIONAL : 0);
  const out = Buffer.alloc(BATCH_HEADER_BYTES + body.length);
  setBatchBaseOffset(out, 0, opts.baseOffset ?? 0);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt32BE(-1, 12); // partitionLeaderEpoch: the broker sets it
  out.writeInt8(2, 16);
  out.writeInt16BE(attributes, 21);
  out.writeInt32BE(opts.records.length - 1, 23);
  out.writeBigInt64BE(BigInt(baseTimestamp), 27);
  out.writeBigInt64BE(BigInt(maxTimestamp), 35);
  out.writeBigInt64BE(BigInt(opts.producerId ?? -1), 43);
  out.writeInt16BE(opts.producerEpoch ?? -1, 51);
  out.writeInt32BE(opts.baseSequence ?? -1, 53);
  out.writeInt32BE(opts.records.length, 57);
  body.copy(out, BATCH_HEADER_BYTES);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), 17);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Snappy: raw block format, and the xerial framing the Java client writes.

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16; // magic + int32 version + int32 compatible version

/** Decompresses a Kafka snappy payload: xerial-framed chunks when the magic is present, else one raw snappy block. */
export function snappyDecompressKafka(input: Buffer): Buffer {
  if (input.length < XERIAL_HEADER_BYTES || !input.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return snappyDecompressRaw(input);
  }
  const parts: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < input.length) {
    if (pos + 4 > input.length) throw malformed(`xerial snappy: chunk length cut off at byte ${pos}`);
    const n = input.readInt32BE(pos);
    pos += 4;
    if (n < 0 || pos + n > input.length) throw malformed(`xerial snappy: chunk of ${n} bytes at byte ${pos} runs past the end`);
    parts.push(snappyDecompressRaw(input.subarray(pos, pos + n)));
    pos += n;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

// A snappy element expands at most ~22x (a 3-byte copy of 64 bytes), so a preamble claiming more than that is a lie;
// checking it first keeps a hostile length from allocating gigabytes.
const SNAPPY_MAX_RATIO = 22;

/** Raw snappy block: uvarint uncompressed length, then literal and copy elements. */
export function snappyDecompressRaw(input: Uint8Array): Buffer {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw malformed('snappy: bad length preamble');
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length > input.length * SNAPPY_MAX_RATIO + 64) throw malformed(`snappy: claimed length ${length} is impossible for ${input.length} input bytes`);
  const out = Buffer.allocUnsafe(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (pos + extra > input.length) throw malformed('snappy: literal length cut off');
        n = 0;
        for (let k = 0; k < extra; k++) n += input[pos + k]! * 2 ** (8 * k);
        pos += extra;
      }
      n += 1;
      if (pos + n > input.length || o + n > length) throw malformed('snappy: literal runs past the end');
      out.set(input.subarray(pos, pos + n), o);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > input.length) throw malformed('snappy: copy cut off');
      n = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > input.length) throw malformed('snappy: copy cut off');
      n = 1 + (tag >>> 2);
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > input.length) throw malformed('snappy: copy cut off');
      n = 1 + (tag >>> 2);
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16) | (input[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + n > length) throw malformed(`snappy: copy (offset ${offset}, length ${n}) out of range`);
    copyMatch(out, o, offset, n);
    o += n;
  }
  if (o !== length) throw malformed(`snappy: produced ${o} bytes, the preamble said ${length}`);
  return out;
}

/** LZ77 back-reference copy; the source may overlap the destination (a run), so short offsets go byte by byte. */
function copyMatch(out: Buffer, o: number, offset: number, n: number): void {
  const from = o - offset;
  if (offset >= n) {
    out.copyWithin(o, from, from + n);
    return;
  }
  for (let k = 0; k < n; k++) out[o + k] = out[from + k]!;
}

// ---------------------------------------------------------------------------------------------------------------------
// LZ4 frame format (magic 04 22 4D 18), independent or linked blocks; checksums are skipped.

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

class GrowBuffer {
  buf: Buffer;
  length = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 64));
  }
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** Decompresses one or more concatenated LZ4 frames (skippable frames are skipped). */
export function lz4FrameDecompress(input: Buffer): Buffer {
  const out = new GrowBuffer(input.length * 3);
  let pos = 0;
  while (pos < input.length) {
    if (pos + 4 > input.length) throw malformed('lz4: frame magic cut off');
    const magic = input.readUInt32LE(pos);
    pos += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (pos + 4 > input.length) throw malformed('lz4: skippable frame cut off');
      pos += 4 + input.readUInt32LE(pos);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw malformed(`lz4: bad frame magic ${magic.toString(16)}`);
    if (pos + 3 > input.length) throw malformed('lz4: frame descriptor cut off');
    const flg = input[pos]!;
    const bd = input[pos + 1]!;
    pos += 2;
    if (flg >>> 6 !== 1) throw malformed(`lz4: unsupported frame version ${flg >>> 6}`);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    const blockMax = LZ4_BLOCK_MAX[(bd >>> 4) & 7] ?? 0;
    if (blockMax === 0) throw malformed(`lz4: bad block size code ${(bd >>> 4) & 7}`);
    if (dictId) throw malformed('lz4: frames with a dictionary are not supported');
    pos += (contentSize ? 8 : 0) + 1; // content size (not needed: the output grows), then the header checksum
    while (true) {
      if (pos + 4 > input.length) throw malformed('lz4: block size cut off');
      const word = input.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (pos + size > input.length || size > blockMax) throw malformed(`lz4: block of ${size} bytes is out of range`);
      if ((word & 0x80000000) !== 0) {
        out.reserve(size);
        input.copy(out.buf, out.length, pos, pos + size);
        out.length += size;
      } else {
        // Blocks decode into one contiguous output, so linked blocks can reach back into earlier ones.
        out.reserve(blockMax);
        out.length = lz4BlockDecompress(input, pos, pos + size, out.buf, out.length, out.length + blockMax);
      }
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) pos += 4;
    if (pos > input.length) throw malformed('lz4: frame cut off');
  }
  return out.buf.subarray(0, out.length);
}

/** One LZ4 block from input[start, end) into out at `o` (never past `limit`); returns the new output length. */
function lz4BlockDecompress(input: Buffer, start: number, end: number, out: Buffer, o: number, limit: number): number {
  let pos = start;
  while (pos < end) {
    const token = input[pos++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (pos >= end) throw malformed('lz4: literal length cut off');
        b = input[pos++]!;
        lit += b;
      } while (b === 255);
    }
    if (pos + lit > end || o + lit > limit) throw malformed('lz4: literals run past the end');
    input.copy(out, o, pos, pos + lit);
    pos += lit;
    o += lit;
    if (pos === end) break; // the last sequence has literals only
    if (pos + 2 > end) throw malformed('lz4: match offset cut off');
    const offset = input[pos]! | (input[pos + 1]! << 8);
    pos += 2;
    let n = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (pos >= end) throw malformed('lz4: match length cut off');
        b = input[pos++]!;
        n += b;
      } while (b === 255);
    }
    if (offset === 0 || offset > o || o + n > limit) throw malformed(`lz4: match (offset ${offset}, length ${n}) out of range`);
    copyMatch(out, o, offset, n);
    o += n;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------------------
// Walking fetched records without an object per record: a reader that keeps up with hundreds of thousands of records a
// second cannot afford one (and its garbage) for each.

/**
 * One record as `forEachRecord` shows it: `buf` holds it (the batch's bytes, decompressed), the value is
 * `buf[valueStart, valueStart + valueLength)` (`valueLength` -1 for a null value), and the whole record (for
 * `readRecordKeyAndHeaders`) is `buf[recordStart, recordEnd)`. The positions are valid only during the call.
 */
export type RecordVisitor = (buf: Buffer, offset: number, timestampMs: number, valueStart: number, valueLength: number, recordStart: number, recordEnd: number) => void;

/** What `forEachRecord` did with a partition's records. */
export type RecordWalk = {
  /** The offset after the last whole batch, where the next fetch starts; -1 when the bytes hold no whole batch. */
  nextOffset: number;
  /** Records handed to the visitor. */
  records: number;
};

let varintEnd = 0;

/** Zigzag varint at `pos` (up to 64 bits, as a number); the position after it is left in `varintEnd`. */
function readVarint(buf: Buffer, pos: number, end: number): number {
  let b = pos < end ? buf[pos]! : -1;
  if (b >= 0 && b < 0x80) {
    varintEnd = pos + 1;
    return (b >>> 1) ^ -(b & 1);
  }
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw malformed(`a varint runs past the end of its record at byte ${pos}`);
    b = buf[pos++]!;
    raw += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) {
      varintEnd = pos;
      // Zigzag on a number: even raw values are non-negative, odd ones negative.
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
  }
  throw malformed(`a varint is longer than 10 bytes at byte ${pos}`);
}

function decompressSync(codec: number, body: Buffer): Buffer {
  try {
    switch (codec) {
      case Compression.NONE:
        return body;
      case Compression.GZIP:
        return zlib.gunzipSync(body);
      case Compression.SNAPPY:
        return snappyDecompressKafka(body);
      case Compression.LZ4:
        return lz4FrameDecompress(body);
      case Compression.ZSTD:
        return zlib.zstdDecompressSync(body);
      default:
        throw malformed(`unknown compression codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof KafkaCodecError) throw err;
    throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `the batch's compressed records do not decompress (codec ${codec})`, { cause: err });
  }
}

/**
 * Hands every record at or after `fromOffset` in the whole v2 batches of `records` (one partition's bytes from a Fetch
 * response) to `visit`, in offset order, decompressing batches as needed. A partial batch at the end (a broker cuts
 * its answer at the byte limit) is left for the next fetch; control batches (transaction markers) are skipped. With
 * `verifyCrc`, a batch whose CRC-32C is wrong throws; a record whose fields do not fill exactly its stated length, or
 * bytes left after a batch's records, throw KafkaCodecError before the record is shown.
 */
export function forEachRecord(records: Buffer, fromOffset: number, visit: RecordVisitor, verifyCrc = false): RecordWalk {
  let pos = 0;
  let nextOffset = -1;
  let visited = 0;
  while (pos + BATCH_LOG_OVERHEAD <= records.length) {
    const batchLength = records.readInt32BE(pos + 8);
    const byteLength = BATCH_LOG_OVERHEAD + batchLength;
    if (batchLength < MIN_BATCH_LENGTH || pos + byteLength > records.length) break;
    const baseOffset = int64(records, pos);
    const magic = records.readInt8(pos + 16);
    if (magic !== 2) throw malformed(`a batch at offset ${baseOffset} has magic ${magic}; only record batch v2 is read`);
    if (verifyCrc && records.readUInt32BE(pos + 17) !== computeBatchCrc(records, pos, byteLength)) {
      throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `the batch at offset ${baseOffset} fails its CRC-32C check`);
    }
    const attributes = records.readInt16BE(pos + 21);
    const lastOffset = baseOffset + records.readInt32BE(pos + 23);
    if (lastOffset >= fromOffset && (attributes & BatchAttribute.CONTROL) === 0) {
      const baseTimestamp = int64(records, pos + 27);
      const logAppendTime = (attributes & BatchAttribute.LOG_APPEND_TIME) !== 0;
      const maxTimestamp = logAppendTime ? int64(records, pos + 35) : 0;
      const count = records.readInt32BE(pos + 57);
      const raw = decompressSync(attributes & BatchAttribute.COMPRESSION_MASK, records.subarray(pos + BATCH_HEADER_BYTES, pos + byteLength));
      const end = raw.length;
      let at = 0;
      for (let i = 0; i < count; i++) {
        const length = readVarint(raw, at, end);
        at = varintEnd;
        const recordEnd = at + length;
        if (length < 0 || recordEnd > end) throw malformed(`record ${i} of the batch at offset ${baseOffset} runs past the batch`);
        const recordStart = at;
        const timestampDelta = readVarint(raw, at + 1, recordEnd);
        const offsetDelta = readVarint(raw, varintEnd, recordEnd);
        const keyLength = readVarint(raw, varintEnd, recordEnd);
        const valueLength = readVarint(raw, varintEnd + Math.max(0, keyLength), recordEnd);
        const valueStart = varintEnd;
        if (valueStart + Math.max(0, valueLength) > recordEnd) throw malformed(`the value of record ${i} of the batch at offset ${baseOffset} runs past the record`);
        // The headers are skipped, but checked: a record is shown only once all of it fits its stated length.
        let h = valueStart + Math.max(0, valueLength);
        const headerCount = readVarint(raw, h, recordEnd);
        h = varintEnd;
        if (headerCount < 0 || headerCount > recordEnd - h) throw malformed(`record ${i} of the batch at offset ${baseOffset} has a header count of ${headerCount}`);
        for (let k = 0; k < headerCount; k++) {
          const keyLength = readVarint(raw, h, recordEnd);
          h = varintEnd + Math.max(0, keyLength);
          const headerValueLength = readVarint(raw, h, recordEnd);
          h = varintEnd + Math.max(0, headerValueLength);
        }
        if (h !== recordEnd) throw malformed(`record ${i} of the batch at offset ${baseOffset} is ${length} bytes by its length but ${h - recordStart} by its fields`);
        const offset = baseOffset + offsetDelta;
        if (offset >= fromOffset) {
          visit(raw, offset, logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta, valueStart, valueLength, recordStart, recordEnd);
          visited++;
        }
        at = recordEnd;
      }
      if (at !== end) throw malformed(`the batch at offset ${baseOffset} holds ${end - at} bytes after its ${count} records`);
    }
    nextOffset = lastOffset + 1;
    pos += byteLength;
  }
  return { nextOffset, records: visited };
}

/** The offset after the last whole batch in `records`, read from the batch headers alone; -1 when there is none. */
export function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let next = -1;
  while (pos + BATCH_LOG_OVERHEAD <= records.length) {
    const batchLength = records.readInt32BE(pos + 8);
    if (batchLength < MIN_BATCH_LENGTH || pos + BATCH_LOG_OVERHEAD + batchLength > records.length) break;
    next = int64(records, pos) + records.readInt32BE(pos + 23) + 1;
    pos += BATCH_LOG_OVERHEAD + batchLength;
  }
  return next;
}

/** The key and headers of one record that `forEachRecord` showed (`buf[recordStart, recordEnd)`); for the rare record kept whole. */
export function readRecordKeyAndHeaders(buf: Buffer, recordStart: number, recordEnd: number): { key: Buffer | null; headers: RecordHeader[] } {
  const r = new Reader(buf, recordStart, recordEnd);
  r.int8(); // attributes
  r.varint(); // timestamp delta
  r.varint32(); // offset delta
  const key = varBytes(r);
  varBytes(r); // value
  const count = r.varint32();
  if (count < 0 || count > r.remaining) throw malformed(`a header count of ${count} is out of range`);
  const headers: RecordHeader[] = [];
  for (let j = 0; j < count; j++) {
    const k = varBytes(r);
    if (k === null) throw malformed(`header ${j} has a null key`);
    headers.push({ key: k.toString('utf8'), value: varBytes(r) });
  }
  return { key: key === null ? null : Buffer.from(key), headers: headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })) };
}
