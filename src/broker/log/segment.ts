// One log segment: `<baseOffset, 20 digits>.log` holding whole record batches back to back, a sparse offset index
// (`.index`: relative offset int32, file position int32) and a time index (`.timeindex`: timestamp int64, relative offset int32).
import { constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { assert } from '../../errors.ts';
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  computeBatchCrc,
  readBatchHeader,
  type BatchHeader,
} from '../../kafka/record-batch.ts';
import { POOLED_FRAME_MIN_BYTES, type FrameLease } from '../frame-pool.ts';
import { DIRECT_ALIGN, O_DIRECT, STAGING_BLOCK_BYTES, alignDown, alignUp, isPadding, type StagingPool } from './direct-io.ts';

const OFFSET_ENTRY_BYTES = 8;
const TIME_ENTRY_BYTES = 12;
const SCAN_CHUNK_BYTES = 1 << 20;
/**
 * Chunk of a scan that reads only batch headers (locating an offset, replaying producer state). A fetch locates its
 * start from the nearest offset-index entry, a few KiB before it at most, so a small read finds it; reading a whole
 * chunk of the largest size, and the whole batch, only to look at one header doubled what every fetch read and
 * allocated.
 */
const HEADER_SCAN_CHUNK_BYTES = 16 * 1024;
/** Index entries gathered before they are written out (2-3 KiB): one index write per this many appends, not one each. */
const INDEX_FLUSH_ENTRIES = 256;

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** The base offset a segment file name carries, or null when the name is not one of ours. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | null {
  const m = /^(\d{20})(\.log|\.index|\.timeindex)$/.exec(name);
  if (m === null) return null;
  return { baseOffset: Number(m[1]), suffix: m[2]! };
}

/** Sparse map from a batch's relative base offset to its file position; both columns strictly increase. */
export class OffsetIndex {
  readonly relOffsets: number[] = [];
  readonly positions: number[] = [];

  get length(): number {
    return this.relOffsets.length;
  }

  append(relOffset: number, position: number): void {
    const n = this.relOffsets.length;
    assert(n === 0 || (relOffset > this.relOffsets[n - 1]! && position > this.positions[n - 1]!), 'offset index entries only grow');
    this.relOffsets.push(relOffset);
    this.positions.push(position);
  }

  /** Position of the last indexed batch starting at or before `relOffset` (0, the segment start, when none). */
  lookup(relOffset: number): number {
    let lo = 0;
    let hi = this.relOffsets.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsets[mid]! <= relOffset) {
        found = this.positions[mid]!;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  static encodeEntry(relOffset: number, position: number): Buffer {
    const b = Buffer.allocUnsafe(OFFSET_ENTRY_BYTES);
    b.writeInt32BE(relOffset, 0);
    b.writeInt32BE(position, 4);
    return b;
  }

  encode(): Buffer {
    return Buffer.concat(this.relOffsets.map((r, i) => OffsetIndex.encodeEntry(r, this.positions[i]!)));
  }

  /** Decodes an index file; `consistent` is false when it had to drop entries that cannot be right for this log. */
  static decode(buf: Buffer, logBytes: number): { index: OffsetIndex; consistent: boolean } {
    const index = new OffsetIndex();
    const whole = buf.length - (buf.length % OFFSET_ENTRY_BYTES);
    for (let p = 0; p < whole; p += OFFSET_ENTRY_BYTES) {
      const rel = buf.readInt32BE(p);
      const pos = buf.readInt32BE(p + 4);
      const n = index.length;
      const ok = rel >= 0 && pos >= 0 && pos < logBytes && (n === 0 || (rel > index.relOffsets[n - 1]! && pos > index.positions[n - 1]!));
      if (!ok) return { index, consistent: false };
      index.append(rel, pos);
    }
    return { index, consistent: whole === buf.length };
  }
}

/**
 * Sparse time index. An entry (timestamp T, relative offset R) says: every batch before R in this segment has a
 * maxTimestamp <= T. A sealed segment's last entry has R = its end, so T is the segment's largest timestamp.
 */
export class TimeIndex {
  readonly timestamps: number[] = [];
  readonly relOffsets: number[] = [];

  get length(): number {
    return this.timestamps.length;
  }

  get lastTimestamp(): number {
    return this.timestamps.at(-1) ?? -1;
  }

  get lastRelOffset(): number {
    return this.relOffsets.at(-1) ?? -1;
  }

  append(timestamp: number, relOffset: number): void {
    const n = this.timestamps.length;
    assert(n === 0 || (timestamp >= this.timestamps[n - 1]! && relOffset >= this.relOffsets[n - 1]!), 'time index entries only grow');
    this.timestamps.push(timestamp);
    this.relOffsets.push(relOffset);
  }

  /** Relative offset from which to scan for the first batch with maxTimestamp >= ts (0 when no entry rules anything out). */
  lookup(timestampMs: number): number {
    let lo = 0;
    let hi = this.timestamps.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < timestampMs) {
        found = this.relOffsets[mid]!;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  static encodeEntry(timestamp: number, relOffset: number): Buffer {
    const b = Buffer.allocUnsafe(TIME_ENTRY_BYTES);
    b.writeBigInt64BE(BigInt(timestamp), 0);
    b.writeInt32BE(relOffset, 8);
    return b;
  }

  encode(): Buffer {
    return Buffer.concat(this.timestamps.map((t, i) => TimeIndex.encodeEntry(t, this.relOffsets[i]!)));
  }

  static decode(buf: Buffer, endRelOffset: number): { index: TimeIndex; consistent: boolean } {
    const index = new TimeIndex();
    const whole = buf.length - (buf.length % TIME_ENTRY_BYTES);
    for (let p = 0; p < whole; p += TIME_ENTRY_BYTES) {
      const ts = Number(buf.readBigInt64BE(p));
      const rel = buf.readInt32BE(p + 8);
      const n = index.length;
      const ok = rel >= 0 && rel <= endRelOffset && (n === 0 || (ts >= index.timestamps[n - 1]! && rel >= index.relOffsets[n - 1]!));
      if (!ok) return { index, consistent: false };
      index.append(ts, rel);
    }
    return { index, consistent: whole === buf.length };
  }
}

async function readFully(fh: FileHandle, buf: Buffer, n: number, position: number): Promise<number> {
  let done = 0;
  while (done < n) {
    const { bytesRead } = await fh.read(buf, done, n - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Writes the buffers one after the other from `position`, with one writev per call until every byte is written. */
async function writevFully(fh: FileHandle, bufs: readonly Buffer[], position: number): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) {
      skip -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}

async function readWholeFile(file: string): Promise<Buffer | null> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const buf = Buffer.alloc(size);
      const n = await readFully(fh, buf, size, 0);
      return buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export type ScanStep =
  | { kind: 'batch'; pos: number; header: BatchHeader }
  | { kind: 'end'; pos: number }
  | { kind: 'bad'; pos: number; reason: string };

/**
 * Walks the batches of a segment file between two positions. With CRC checks it reads whole batches in large chunks;
 * without, only each batch's header, in small chunks.
 */
export class BatchScanner {
  pos: number;
  private readonly fh: FileHandle;
  private readonly end: number;
  private readonly verifyCrc: boolean;
  private buf: Buffer = Buffer.alloc(0);
  private bufPos = 0;
  private bufLen = 0;

  constructor(fh: FileHandle, from: number, end: number, verifyCrc: boolean) {
    this.fh = fh;
    this.pos = from;
    this.end = end;
    this.verifyCrc = verifyCrc;
  }

  /** Makes bytes [pos, pos+n) available in the buffer; false when the file (or range) ends first. */
  private async ensure(n: number): Promise<boolean> {
    if (this.pos >= this.bufPos && this.pos + n <= this.bufPos + this.bufLen) return true;
    if (this.pos + n > this.end) return false;
    const size = Math.max(n, Math.min(this.verifyCrc ? SCAN_CHUNK_BYTES : HEADER_SCAN_CHUNK_BYTES, this.end - this.pos));
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(size);
    this.bufPos = this.pos;
    this.bufLen = await readFully(this.fh, this.buf, size, this.pos);
    return this.bufLen >= n;
  }

  async next(): Promise<ScanStep> {
    const pos = this.pos;
    if (pos >= this.end) return { kind: 'end', pos };
    if (!(await this.ensure(BATCH_HEADER_BYTES))) return { kind: 'bad', pos, reason: 'batch header cut off' };
    const at = pos - this.bufPos;
    const batchLength = this.buf.readInt32BE(at + 8);
    const magic = this.buf.readInt8(at + 16);
    if (magic !== 2) return { kind: 'bad', pos, reason: `magic ${magic}` };
    if (batchLength < MIN_BATCH_LENGTH) return { kind: 'bad', pos, reason: `batchLength ${batchLength}` };
    if (pos + BATCH_LOG_OVERHEAD + batchLength > this.end) return { kind: 'bad', pos, reason: 'batch cut off' };
    if (this.verifyCrc && !(await this.ensure(BATCH_LOG_OVERHEAD + batchLength))) return { kind: 'bad', pos, reason: 'batch cut off' };
    const at2 = pos - this.bufPos;
    const header = readBatchHeader(this.buf, at2);
    if (this.verifyCrc && computeBatchCrc(this.buf, at2, header.byteLength) !== header.crc) {
      return { kind: 'bad', pos, reason: 'CRC-32C mismatch' };
    }
    this.pos = pos + header.byteLength;
    return { kind: 'batch', pos, header };
  }
}

/** Builds index entries the same way on append and on rebuild, so a rebuilt index equals the one written live. */
export class Indexer {
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private readonly baseOffset: number;
  private bytesSinceEntry = 0;
  maxTimestamp: number;

  constructor(baseOffset: number, offsetIndex = new OffsetIndex(), timeIndex = new TimeIndex(), maxTimestamp = -1) {
    this.baseOffset = baseOffset;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.maxTimestamp = maxTimestamp;
  }

  /** Records one batch at `pos`; returns the bytes of new index entries for each file (empty when none). */
  add(pos: number, h: BatchHeader, indexIntervalBytes: number): { offsetBytes: Buffer | null; timeBytes: Buffer | null } {
    let offsetBytes: Buffer | null = null;
    let timeBytes: Buffer | null = null;
    if (pos > 0 && this.bytesSinceEntry >= indexIntervalBytes) {
      const rel = h.baseOffset - this.baseOffset;
      this.offsetIndex.append(rel, pos);
      offsetBytes = OffsetIndex.encodeEntry(rel, pos);
      if (this.maxTimestamp > this.timeIndex.lastTimestamp) {
        this.timeIndex.append(this.maxTimestamp, rel);
        timeBytes = TimeIndex.encodeEntry(this.maxTimestamp, rel);
      }
      this.bytesSinceEntry = 0;
    }
    this.bytesSinceEntry += h.byteLength;
    if (h.maxTimestamp > this.maxTimestamp) this.maxTimestamp = h.maxTimestamp;
    return { offsetBytes, timeBytes };
  }
}

export type SegmentPaths = { log: string; index: string; timeIndex: string };

export function segmentPaths(dir: string, baseOffset: number): SegmentPaths {
  return {
    log: path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX)),
    index: path.join(dir, segmentFileName(baseOffset, INDEX_SUFFIX)),
    timeIndex: path.join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX)),
  };
}

export type RecoveryReport = { truncatedBytes: number; reason: string | null };

/**
 * Whether the batches from the last offset-index entry end exactly at `size` with the offset before `nextOffset`:
 * a sealed file that ends on an alignment boundary may still hold the zeros of a direct append (a crash between
 * writing the closing index entry and cutting them), and those are not batches.
 */
async function endsWithBatch(file: string, index: OffsetIndex, baseOffset: number, nextOffset: number, size: number): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const scanner = new BatchScanner(fh, index.positions.at(-1) ?? 0, size, false);
    let last = -1;
    while (true) {
      const step = await scanner.next();
      if (step.kind === 'end') return last === nextOffset - 1 && step.pos === size;
      if (step.kind === 'bad') return false;
      if (step.header.baseOffset < baseOffset) return false;
      last = step.header.baseOffset + step.header.lastOffsetDelta;
    }
  } finally {
    await fh.close();
  }
}

/** The active segment's direct-I/O writer (see direct-io.ts). */
type DirectWriter = {
  /** The log file opened write-only with O_DIRECT; reads keep using the buffered handle. */
  fh: FileHandle;
  pool: StagingPool;
  /** The committed bytes of the log's last partial alignment unit, written again at the start of the next append. */
  carry: Buffer;
};

async function openDirect(file: string, pool: StagingPool, fh: FileHandle, size: number): Promise<DirectWriter> {
  const carry = Buffer.alloc(size % DIRECT_ALIGN);
  if (carry.length > 0) {
    const got = await readFully(fh, carry, carry.length, alignDown(size));
    assert(got === carry.length, `read the last ${carry.length} bytes of ${file}`);
  }
  return { fh: await open(file, fsConstants.O_WRONLY | O_DIRECT), pool, carry };
}

export class Segment {
  readonly baseOffset: number;
  readonly paths: SegmentPaths;
  /** Bytes of whole, committed batches; readers never look past it. */
  sizeBytes = 0;
  /** Offset after the last batch of this segment. */
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment; -1 when empty. */
  maxTimestamp = -1;

  /** Readers holding the file handle; it is only closed when this drops to zero. */
  refs = 0;
  /** The active segment keeps its handles open for its whole life. */
  pinned = false;
  deleted = false;
  /** Page cache bookkeeping (partition-log.ts, dropCache): read since its pages were last dropped, and when that was. */
  cachedSinceDrop = true;
  lastCacheDropMs = 0;

  private fh: FileHandle | null = null;
  private direct: DirectWriter | null = null;
  private opening: Promise<FileHandle> | null = null;
  private indexer: Indexer | null = null;
  private indexFh: FileHandle | null = null;
  private timeIndexFh: FileHandle | null = null;
  /** Index file writes still running behind acknowledged appends. */
  private indexWrites: Promise<void> = Promise.resolve();
  /** Encoded index entries of appended batches not yet handed to a write (see flushIndexes). */
  private pendingOffsetEntries: Buffer[] = [];
  private pendingTimeEntries: Buffer[] = [];

  private constructor(dir: string, baseOffset: number) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.paths = segmentPaths(dir, baseOffset);
  }

  get isOpen(): boolean {
    return this.fh !== null;
  }

  /** A new, empty active segment; with `staging`, appends are written with direct I/O. */
  static async create(dir: string, baseOffset: number, staging: StagingPool | null = null): Promise<Segment> {
    const s = new Segment(dir, baseOffset);
    try {
      s.fh = await open(s.paths.log, 'w+');
      if (staging !== null) s.direct = await openDirect(s.paths.log, staging, s.fh, 0);
      s.indexFh = await open(s.paths.index, 'w+');
      s.timeIndexFh = await open(s.paths.timeIndex, 'w+');
    } catch (err) {
      await s.closeOpened();
      throw err;
    }
    s.indexer = new Indexer(baseOffset);
    s.pinned = true;
    return s;
  }

  /** Closes whatever handles a failed create or recovery had opened. */
  private async closeOpened(): Promise<void> {
    const handles = [this.direct?.fh ?? null, this.fh, this.indexFh, this.timeIndexFh];
    this.direct = null;
    this.fh = null;
    this.indexFh = null;
    this.timeIndexFh = null;
    for (const h of handles) if (h !== null) await h.close().catch(() => {});
  }

  /**
   * Opens the last segment for appending after a restart: checks every batch (structure, CRC, contiguous offsets),
   * truncates the file at the first bad one, and rewrites both indexes from what is left.
   */
  static async recoverActive(
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
    onBatch: (h: BatchHeader) => void,
    staging: StagingPool | null = null,
  ): Promise<{ segment: Segment; report: RecoveryReport }> {
    const s = new Segment(dir, baseOffset);
    try {
      s.fh = await open(s.paths.log, 'r+');
      const report = await s.rebuild(indexIntervalBytes, onBatch);
      if (staging !== null) s.direct = await openDirect(s.paths.log, staging, s.fh, s.sizeBytes);
      s.indexFh = await open(s.paths.index, 'w+');
      s.timeIndexFh = await open(s.paths.timeIndex, 'w+');
      const { offsetIndex, timeIndex } = s.indexer!;
      await writeFully(s.indexFh, offsetIndex.encode(), 0);
      await writeFully(s.timeIndexFh, timeIndex.encode(), 0);
      s.pinned = true;
      return { segment: s, report };
    } catch (err) {
      await s.closeOpened();
      throw err;
    }
  }

  /**
   * Opens the bookkeeping of a sealed segment whose successor starts at `nextOffset`. Its indexes are trusted when
   * consistent (the time index ends with the segment's end); otherwise the segment is scanned, truncated at the first
   * bad batch and its indexes rewritten. No handle stays open.
   */
  static async loadSealed(
    dir: string,
    baseOffset: number,
    nextOffset: number,
    indexIntervalBytes: number,
  ): Promise<{ segment: Segment; report: RecoveryReport }> {
    const s = new Segment(dir, baseOffset);
    const size = (await stat(s.paths.log)).size;
    const endRel = nextOffset - baseOffset;
    const offsetBuf = await readWholeFile(s.paths.index);
    const timeBuf = await readWholeFile(s.paths.timeIndex);
    if (offsetBuf !== null && timeBuf !== null) {
      const oi = OffsetIndex.decode(offsetBuf, size);
      const ti = TimeIndex.decode(timeBuf, endRel);
      const lastRel = oi.index.relOffsets.at(-1) ?? -1;
      if (
        oi.consistent &&
        ti.consistent &&
        ti.index.lastRelOffset === endRel &&
        lastRel < endRel &&
        (size === 0) === (endRel === 0) &&
        (size % DIRECT_ALIGN !== 0 || (await endsWithBatch(s.paths.log, oi.index, baseOffset, nextOffset, size)))
      ) {
        s.sizeBytes = size;
        s.nextOffset = nextOffset;
        s.maxTimestamp = ti.index.lastTimestamp;
        return { segment: s, report: { truncatedBytes: 0, reason: null } };
      }
    }
    s.fh = await open(s.paths.log, 'r+');
    try {
      const report = await s.rebuild(indexIntervalBytes, () => {});
      await s.writeSealedIndexes();
      return { segment: s, report };
    } finally {
      await s.closeHandles();
    }
  }

  /** Full scan with CRC checks from position 0; truncates at the first bad batch and leaves fresh indexes in memory. */
  private async rebuild(indexIntervalBytes: number, onBatch: (h: BatchHeader) => void): Promise<RecoveryReport> {
    const fh = this.fh!;
    const size = (await fh.stat()).size;
    const indexer = new Indexer(this.baseOffset);
    const scanner = new BatchScanner(fh, 0, size, true);
    let expected = this.baseOffset;
    let reason: string | null = null;
    while (true) {
      const step = await scanner.next();
      if (step.kind === 'end') break;
      if (step.kind === 'bad') {
        reason = `${step.reason} at byte ${step.pos}`;
        break;
      }
      const h = step.header;
      if (h.baseOffset !== expected) {
        reason = `batch at byte ${step.pos} has base offset ${h.baseOffset}, expected ${expected}`;
        scanner.pos = step.pos;
        break;
      }
      indexer.add(step.pos, h, indexIntervalBytes);
      onBatch(h);
      expected = h.baseOffset + h.lastOffsetDelta + 1;
    }
    const valid = scanner.pos;
    let padding = false;
    if (valid < size) {
      // What a direct append left beyond the last batch (zeros up to an alignment boundary) is not a torn batch.
      if (size - valid < DIRECT_ALIGN) {
        const tail = Buffer.alloc(size - valid);
        padding = (await readFully(fh, tail, tail.length, valid)) === tail.length && isPadding(tail, size);
      }
      await fh.truncate(valid);
      await fh.datasync();
    }
    this.sizeBytes = valid;
    this.nextOffset = expected;
    this.maxTimestamp = indexer.maxTimestamp;
    this.indexer = indexer;
    return padding ? { truncatedBytes: 0, reason: null } : { truncatedBytes: size - valid, reason };
  }

  private async writeSealedIndexes(): Promise<void> {
    const indexer = this.indexer!;
    const endRel = this.nextOffset - this.baseOffset;
    if (indexer.timeIndex.lastRelOffset !== endRel) indexer.timeIndex.append(Math.max(this.maxTimestamp, indexer.timeIndex.lastTimestamp), endRel);
    for (const [file, bytes] of [
      [this.paths.index, indexer.offsetIndex.encode()],
      [this.paths.timeIndex, indexer.timeIndex.encode()],
    ] as const) {
      const fh = await open(file, 'w');
      try {
        await writeFully(fh, bytes, 0);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  }

  /** The log file handle, opened (and the indexes loaded) on demand for a sealed segment. Pair with a release. */
  async handle(): Promise<FileHandle> {
    if (this.fh !== null) return this.fh;
    this.opening ??= this.openForRead();
    try {
      return await this.opening;
    } finally {
      this.opening = null;
    }
  }

  private async openForRead(): Promise<FileHandle> {
    const fh = await open(this.paths.log, 'r');
    try {
      const endRel = this.nextOffset - this.baseOffset;
      const oi = OffsetIndex.decode((await readWholeFile(this.paths.index)) ?? Buffer.alloc(0), this.sizeBytes);
      const ti = TimeIndex.decode((await readWholeFile(this.paths.timeIndex)) ?? Buffer.alloc(0), endRel);
      // A damaged index only makes scans longer (lookups fall back to earlier positions), never wrong.
      this.indexer = new Indexer(this.baseOffset, oi.index, ti.index, this.maxTimestamp);
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
    return fh;
  }

  /**
   * Appends whole batches (already given their offsets) at the end of the file, then the index entries they earn.
   * Syncing is the caller's (syncLogData), so that the next append can be written while the disk flushes this one.
   */
  async append(records: readonly Buffer[], headers: BatchHeader[], indexIntervalBytes: number): Promise<void> {
    const fh = this.fh;
    assert(fh !== null && this.pinned && this.indexer !== null, 'append goes to the open active segment');
    const start = this.sizeBytes;
    let length = 0;
    for (const r of records) length += r.length;
    try {
      if (this.direct !== null) await this.appendDirect(this.direct, records, start, length);
      // The requests of a group are written from their own buffers, one writev, rather than copied into one.
      else if (records.length === 1) await writeFully(fh, records[0]!, start);
      else await writevFully(fh, records, start);
    } catch (err) {
      // Leave no half batch behind for the next append to follow.
      await fh.truncate(start).catch(() => {});
      throw err;
    }
    let pos = start;
    for (const h of headers) {
      assert(h.baseOffset === this.nextOffset, 'offsets in a segment are contiguous');
      const { offsetBytes, timeBytes } = this.indexer.add(pos, h, indexIntervalBytes);
      if (offsetBytes !== null) this.pendingOffsetEntries.push(offsetBytes);
      if (timeBytes !== null) this.pendingTimeEntries.push(timeBytes);
      pos += h.byteLength;
      this.nextOffset = h.baseOffset + h.lastOffsetDelta + 1;
    }
    assert(pos === start + length, 'batch headers cover the appended bytes');
    this.sizeBytes = pos;
    this.maxTimestamp = this.indexer.maxTimestamp;
    if (this.pendingOffsetEntries.length + this.pendingTimeEntries.length >= INDEX_FLUSH_ENTRIES) this.flushIndexes();
  }

  /**
   * One O_DIRECT write of the carried partial unit and `records`, from the alignment boundary at or before `start`, zeros
   * after them up to the next boundary. Afterwards the file is that long; the log's own end stays `start + length`.
   */
  private async appendDirect(direct: DirectWriter, records: readonly Buffer[], start: number, length: number): Promise<void> {
    const from = alignDown(start);
    const used = direct.carry.length + length;
    const total = alignUp(used);
    const blocks = direct.pool.acquire(total);
    try {
      let block = 0;
      let at = 0;
      const put = (src: Buffer): void => {
        let done = 0;
        while (done < src.length) {
          const n = Math.min(src.length - done, STAGING_BLOCK_BYTES - at);
          src.copy(blocks[block]!, at, done, done + n);
          done += n;
          at += n;
          if (at === STAGING_BLOCK_BYTES) {
            block++;
            at = 0;
          }
        }
      };
      put(direct.carry);
      for (const r of records) put(r);
      if (total > used) blocks[block]!.fill(0, at, at + (total - used));
      const iov = blocks.map((b, i) => (i === blocks.length - 1 ? b.subarray(0, total - i * STAGING_BLOCK_BYTES) : b));
      const { bytesWritten } = await direct.fh.writev(iov, from);
      if (bytesWritten !== total) throw new Error(`a direct write of ${total} bytes at ${from} wrote ${bytesWritten}`);
      const end = start + length;
      const tail = end % DIRECT_ALIGN;
      const tailAt = alignDown(end) - from;
      const carry = Buffer.allocUnsafe(tail);
      const src = blocks[Math.floor(tailAt / STAGING_BLOCK_BYTES)]!;
      src.copy(carry, 0, tailAt % STAGING_BLOCK_BYTES, (tailAt % STAGING_BLOCK_BYTES) + tail);
      direct.carry = carry;
    } finally {
      direct.pool.release(blocks);
    }
  }

  /** Cuts the zeros a direct append left after the log's end and closes the direct handle (sealing, closing). */
  private async endDirect(): Promise<void> {
    const direct = this.direct;
    if (direct === null) return;
    this.direct = null;
    await direct.fh.close();
    await this.fh!.truncate(this.sizeBytes);
  }

  /**
   * Starts writing the index entries gathered since the last flush. The in-memory indexes already answer lookups, and
   * the files are rebuilt on open when they disagree with the log, so these writes run behind the acknowledgements,
   * in order, a few hundred entries at a time (one small write per append would cost a thread pool round trip each);
   * sync, seal and close flush and wait for them.
   */
  private flushIndexes(): void {
    const offsetParts = this.pendingOffsetEntries;
    const timeParts = this.pendingTimeEntries;
    if (offsetParts.length === 0 && timeParts.length === 0) return;
    this.pendingOffsetEntries = [];
    this.pendingTimeEntries = [];
    const indexFh = this.indexFh!;
    const timeIndexFh = this.timeIndexFh!;
    const offsetAt = (this.indexer!.offsetIndex.length - offsetParts.length) * OFFSET_ENTRY_BYTES;
    const timeAt = (this.indexer!.timeIndex.length - timeParts.length) * TIME_ENTRY_BYTES;
    this.indexWrites = this.indexWrites.then(async () => {
      if (offsetParts.length > 0) await writeFully(indexFh, Buffer.concat(offsetParts), offsetAt);
      if (timeParts.length > 0) await writeFully(timeIndexFh, Buffer.concat(timeParts), timeAt);
    }).catch(() => {
      // A failed index write leaves a file that disagrees with the log; the next open rebuilds it from the log.
    });
  }

  /** Index writes still to do or running; flushed first. */
  private indexWritesDone(): Promise<void> {
    if (this.indexFh !== null) this.flushIndexes();
    return this.indexWrites;
  }

  /** fdatasync of the log file alone: what an acknowledgement under fsync=always waits for (indexes are rebuilt). */
  async syncLogData(): Promise<void> {
    assert(this.fh !== null && this.pinned, 'only the open active segment is synced');
    await this.fh.datasync();
  }

  /** fsync of the log and index files (data only; sizes are covered by fdatasync). */
  async sync(): Promise<void> {
    await this.indexWritesDone();
    // Independent files: their flushes can share the file system's journal commits.
    const syncs: Promise<void>[] = [];
    if (this.fh !== null && this.pinned) syncs.push(this.fh.datasync());
    if (this.indexFh !== null) syncs.push(this.indexFh.datasync());
    if (this.timeIndexFh !== null) syncs.push(this.timeIndexFh.datasync());
    await Promise.all(syncs);
  }

  /** Turns the active segment into a sealed one: writes the closing time-index entry (the segment's largest timestamp). */
  async seal(syncFiles: boolean): Promise<void> {
    assert(this.pinned && this.indexer !== null, 'only the active segment is sealed');
    await this.indexWritesDone();
    if (this.direct !== null) {
      // The zeros after the last batch go before the closing time-index entry marks the segment whole, and reach the
      // disk first: a sealed segment's length is taken as its end (loadSealed).
      await this.endDirect();
      if (syncFiles) await this.fh!.datasync();
    }
    const ti = this.indexer.timeIndex;
    const endRel = this.nextOffset - this.baseOffset;
    if (ti.lastRelOffset !== endRel) {
      const ts = Math.max(this.maxTimestamp, ti.lastTimestamp);
      ti.append(ts, endRel);
      await writeFully(this.timeIndexFh!, TimeIndex.encodeEntry(ts, endRel), (ti.length - 1) * TIME_ENTRY_BYTES);
    }
    if (syncFiles) await this.sync();
    await this.indexFh!.close();
    await this.timeIndexFh!.close();
    this.indexFh = null;
    this.timeIndexFh = null;
    this.pinned = false;
  }

  /** Position of the batch containing `offset` and its header, or null when no batch at or after it exists here. */
  async locate(fh: FileHandle, offset: number, end: number): Promise<{ pos: number; header: BatchHeader } | null> {
    const from = this.indexer!.offsetIndex.lookup(offset - this.baseOffset);
    const scanner = new BatchScanner(fh, from, end, false);
    while (true) {
      const step = await scanner.next();
      if (step.kind === 'end') return null;
      assert(step.kind === 'batch', `committed bytes of ${this.paths.log} hold a bad batch at ${step.pos}`);
      if (step.header.baseOffset + step.header.lastOffsetDelta >= offset) return step;
    }
  }

  /** The first batch whose maxTimestamp >= ts, or null. */
  async locateTimestamp(fh: FileHandle, timestampMs: number, end: number): Promise<{ pos: number; header: BatchHeader } | null> {
    const indexer = this.indexer!;
    const from = indexer.offsetIndex.lookup(indexer.timeIndex.lookup(timestampMs));
    const scanner = new BatchScanner(fh, from, end, false);
    while (true) {
      const step = await scanner.next();
      if (step.kind === 'end') return null;
      assert(step.kind === 'batch', `committed bytes of ${this.paths.log} hold a bad batch at ${step.pos}`);
      if (step.header.maxTimestamp >= timestampMs) return step;
    }
  }

  /** Reads exactly n bytes at pos (they are committed, so they are there); a large read into a buffer of `lease`. */
  async readAt(fh: FileHandle, pos: number, n: number, lease?: FrameLease): Promise<Buffer> {
    const buf = lease !== undefined && n >= POOLED_FRAME_MIN_BYTES ? lease.acquire(n) : Buffer.allocUnsafe(n);
    const got = await readFully(fh, buf, n, pos);
    assert(got === n, `read ${got} of ${n} committed bytes at ${pos} of ${this.paths.log}`);
    return buf.length === n ? buf : buf.subarray(0, n);
  }

  /** Closes every handle and forgets the loaded indexes (they are reloaded on the next handle()). */
  async closeHandles(): Promise<void> {
    await this.indexWritesDone();
    if (this.direct !== null) {
      // Best effort, so that a failing disk still gets every handle closed: zeros left behind are cut on the next open.
      await this.endDirect()
        .then(() => this.fh!.datasync())
        .catch(() => {});
    }
    const handles = [this.fh, this.indexFh, this.timeIndexFh];
    this.fh = null;
    this.indexFh = null;
    this.timeIndexFh = null;
    if (!this.pinned) this.indexer = null;
    for (const h of handles) if (h !== null) await h.close();
  }

  async deleteFiles(): Promise<void> {
    // The log goes first: an index without its log is an orphan that the next open removes.
    await rm(this.paths.log, { force: true });
    await rm(this.paths.index, { force: true });
    await rm(this.paths.timeIndex, { force: true });
  }
}
