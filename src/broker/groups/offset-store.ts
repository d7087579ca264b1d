// Committed consumer-group offsets: an in-memory map backed by an append-only, CRC-checked file that survives kill -9.
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { assert } from '../../errors.ts';
import { BrokerError, BrokerErrorCode } from '../errors.ts';
import type { OffsetCommitEntry } from './types.ts';

// File layout (all integers big-endian):
//   file    => header record*
//   header  => magic:"OXBOWOF" version:int8 (= 1)
//   record  => length:uint32 crc:uint32 body            length = bytes of body; crc = CRC-32 (zlib) of body
//   body    => type:int8 payload
//     type 1, offset commit => group_id:STRING16 count:int32 [entry]
//       entry => topic:STRING16 partition:int32 offset:int64 leader_epoch:int32 commit_timestamp_ms:int64 metadata:NULLABLE_STRING32
//     type 2, topic deleted => topic:STRING16
//   STRING16 => length:uint16 utf8;  NULLABLE_STRING32 => length:int32 (-1 = null) utf8
// One commit request is one record, so a torn write never leaves half of a commit behind.

export type CommittedOffset = {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
};

export type StoredOffset = CommittedOffset & { topic: string; partition: number };

export type OffsetStoreOptions = {
  /** Commit timestamps come from here (the coordinator passes its clock). */
  now?: () => number;
  /** Never compact a file smaller than this. */
  compactMinBytes?: number;
  /** Compact when the file is this many times larger than its live content. */
  compactRatio?: number;
};

export const OFFSETS_FILE_NAME = 'committed-offsets.log';

const MAGIC = Buffer.from('OXBOWOF\x01', 'latin1');
const RECORD_HEADER_BYTES = 8;
const MAX_BODY_BYTES = 256 * 1024 * 1024;
const SNAPSHOT_RECORD_BYTES = 1024 * 1024;
const RECORD_COMMIT = 1;
const RECORD_TOPIC_DELETED = 2;
const ENTRY_FIXED_BYTES = 2 + 4 + 8 + 4 + 8 + 4;

type TopicOffsets = Map<number, CommittedOffset>;
type GroupOffsets = Map<string, TopicOffsets>;
type QueuedWrite = { bytes: Buffer; apply: () => void; done: PromiseWithResolvers<void> };

export class OffsetStore {
  readonly path: string;
  private readonly dir: string;
  private readonly now: () => number;
  private readonly compactMinBytes: number;
  private readonly compactRatio: number;
  private readonly groups = new Map<string, GroupOffsets>();
  private file: FileHandle | null = null;
  private fileBytes = 0;
  private liveBytes = 0;
  private queue: QueuedWrite[] = [];
  private flushing: Promise<void> | null = null;
  private failure: BrokerError | null = null;
  private closed = false;
  // After a failed compaction, wait for this much more growth before trying again.
  private compactNotBeforeBytes = 0;

  private constructor(dir: string, options: OffsetStoreOptions) {
    this.dir = dir;
    this.path = join(dir, OFFSETS_FILE_NAME);
    this.now = options.now ?? Date.now;
    this.compactMinBytes = options.compactMinBytes ?? 1024 * 1024;
    this.compactRatio = options.compactRatio ?? 4;
    assert(this.compactRatio > 1, 'compactRatio must exceed 1');
  }

  /** Load the offsets in `dir` (creating the file if absent), dropping a torn last record. */
  static async open(dir: string, options: OffsetStoreOptions = {}): Promise<OffsetStore> {
    const store = new OffsetStore(dir, options);
    try {
      await mkdir(dir, { recursive: true });
      await unlink(store.tempPath).catch(ignoreMissing);
      await store.load();
    } catch (err) {
      if (err instanceof BrokerError) throw err;
      throw new BrokerError(BrokerErrorCode.OFFSETS_UNAVAILABLE, `cannot open the offsets file ${store.path}: ${String(err)}`, {
        fields: { path: store.path },
        cause: err,
      });
    }
    return store;
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(groupId)?.get(topic)?.get(partition);
  }

  /** Every committed offset of a group, ordered by topic then partition. */
  listGroup(groupId: string): StoredOffset[] {
    const out: StoredOffset[] = [];
    const topics = this.groups.get(groupId);
    if (topics === undefined) return out;
    for (const topic of [...topics.keys()].sort()) {
      const partitions = topics.get(topic);
      assert(partitions !== undefined, 'topic listed but missing');
      for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
        const committed = partitions.get(partition);
        assert(committed !== undefined, 'partition listed but missing');
        out.push({ topic, partition, ...committed });
      }
    }
    return out;
  }

  hasGroup(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Bytes in the file and the estimated bytes its live content needs; compaction compares the two. */
  sizes(): { fileBytes: number; liveBytes: number } {
    return { fileBytes: this.fileBytes, liveBytes: this.liveBytes };
  }

  /** Store offsets for a group; resolves once they are on disk (fdatasync), and only then are they visible. */
  commit(groupId: string, entries: OffsetCommitEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const commitTimestampMs = this.now();
    const stored = entries.map((e) => ({ ...e, commitTimestampMs }));
    for (const e of stored) {
      assert(Number.isSafeInteger(e.offset), `offset ${e.offset} is not a safe integer`);
      assert(Number.isInteger(e.partition) && e.partition >= 0, `partition ${e.partition} is invalid`);
    }
    const bytes = encodeCommitRecords(groupId, stored, MAX_BODY_BYTES);
    return this.enqueue(Buffer.concat(bytes), () => this.applyCommit(groupId, stored));
  }

  /** Forget every group's offsets for a topic (the topic was deleted); durable when resolved. */
  deleteTopic(topic: string): Promise<void> {
    return this.enqueue(encodeTopicDeleted(topic), () => this.applyTopicDeleted(topic));
  }

  /** Finish queued writes and close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing !== null) await this.flushing;
    const file = this.file;
    this.file = null;
    if (file !== null) await file.close();
  }

  private get tempPath(): string {
    return `${this.path}.compact`;
  }

  private enqueue(bytes: Buffer, apply: () => void): Promise<void> {
    assert(!this.closed, 'offset store used after close');
    if (this.failure !== null) return Promise.reject(this.failure);
    const done = Promise.withResolvers<void>();
    this.queue.push({ bytes, apply, done });
    this.flushing ??= this.flushQueue();
    return done.promise;
  }

  // Writes everything queued so far with one write and one fdatasync (group commit), in queue order.
  // Never rejects: each waiter gets its own outcome.
  private async flushQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const failure = this.failure ?? (await this.appendDurably(Buffer.concat(batch.map((w) => w.bytes))));
      for (const w of batch) {
        if (failure === null) {
          w.apply();
          w.done.resolve();
        } else {
          w.done.reject(failure);
        }
      }
      if (failure === null && this.shouldCompact()) await this.compactQuietly();
    }
    this.flushing = null;
  }

  private async appendDurably(bytes: Buffer): Promise<BrokerError | null> {
    const file = this.file;
    assert(file !== null, 'offset store file is not open');
    try {
      await writeFully(file, bytes);
      await file.datasync();
      this.fileBytes += bytes.length;
      return null;
    } catch (err) {
      // Roll back to the last durable length so the next append does not follow garbage.
      try {
        await file.truncate(this.fileBytes);
        await file.datasync();
      } catch (rollbackErr) {
        this.failure = new BrokerError(
          BrokerErrorCode.OFFSETS_UNAVAILABLE,
          `the offsets file ${this.path} could not be rolled back after a failed write; restart the broker`,
          { fields: { path: this.path }, cause: rollbackErr },
        );
        return this.failure;
      }
      return new BrokerError(BrokerErrorCode.OFFSETS_WRITE_FAILED, `writing committed offsets to ${this.path} failed: ${String(err)}`, {
        retryable: true,
        fields: { path: this.path },
        cause: err,
      });
    }
  }

  private shouldCompact(): boolean {
    return (
      this.fileBytes > this.compactMinBytes &&
      this.fileBytes > this.compactNotBeforeBytes &&
      this.fileBytes > this.compactRatio * (this.liveBytes + MAGIC.length)
    );
  }

  private async compactQuietly(): Promise<void> {
    try {
      await this.replaceWithSnapshot();
    } catch (err) {
      // A compaction that fails before the rename leaves the old file in use and intact; one after it cannot be trusted.
      if (err instanceof BrokerError) this.failure = err;
      this.compactNotBeforeBytes = this.fileBytes + this.compactMinBytes;
    }
  }

  // Writes the live content to a temporary file and renames it over the offsets file, so a crash leaves one or the other whole.
  private async replaceWithSnapshot(): Promise<void> {
    const chunks = [MAGIC, ...this.snapshotRecords()];
    const temp = await open(this.tempPath, 'w');
    try {
      for (const chunk of chunks) await writeFully(temp, chunk);
      await temp.datasync();
    } catch (err) {
      await temp.close().catch(() => undefined);
      await unlink(this.tempPath).catch(ignoreMissing);
      throw err;
    }
    await temp.close();
    await rename(this.tempPath, this.path);
    try {
      await syncDirectory(this.dir);
      const previous = this.file;
      this.file = await open(this.path, 'a');
      await previous?.close().catch(() => undefined);
    } catch (err) {
      throw new BrokerError(
        BrokerErrorCode.OFFSETS_UNAVAILABLE,
        `the compacted offsets file ${this.path} could not be made durable or reopened; restart the broker`,
        { fields: { path: this.path }, cause: err },
      );
    }
    this.fileBytes = chunks.reduce((n, c) => n + c.length, 0);
  }

  private snapshotRecords(): Buffer[] {
    const records: Buffer[] = [];
    for (const groupId of this.groups.keys()) {
      records.push(...encodeCommitRecords(groupId, this.listGroup(groupId), SNAPSHOT_RECORD_BYTES));
    }
    return records;
  }

  private async load(): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(this.path);
    } catch (err) {
      if (!isMissing(err)) throw err;
      data = Buffer.alloc(0);
    }
    if (data.length === 0) {
      await this.replaceWithSnapshot();
      return;
    }
    if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new BrokerError(BrokerErrorCode.OFFSETS_CORRUPT, `${this.path} is not an Oxbow offsets file (unknown header)`, {
        fields: { path: this.path },
      });
    }
    const goodBytes = this.replay(data);
    if (goodBytes < data.length) {
      // A torn last record (a write cut short by a crash) was never acknowledged: drop it.
      const file = await open(this.path, 'r+');
      try {
        await file.truncate(goodBytes);
        await file.datasync();
      } finally {
        await file.close();
      }
    }
    this.fileBytes = goodBytes;
    if (this.shouldCompact()) {
      await this.replaceWithSnapshot();
    } else {
      this.file = await open(this.path, 'a');
    }
  }

  // Applies every whole record and returns the length of the good prefix; throws if damage is followed by more data.
  private replay(data: Buffer): number {
    let pos = MAGIC.length;
    while (pos < data.length) {
      const bad = this.replayRecord(data, pos);
      if (bad === null) {
        pos += RECORD_HEADER_BYTES + data.readUInt32BE(pos);
        continue;
      }
      if (isTornTail(data, pos)) return pos;
      throw new BrokerError(
        BrokerErrorCode.OFFSETS_CORRUPT,
        `${this.path} is damaged at byte ${pos} of ${data.length} (${bad}) and more data follows; ` +
          'move the file aside to start with no committed offsets, or restore it from a backup',
        { fields: { path: this.path, position: pos, fileBytes: data.length } },
      );
    }
    return pos;
  }

  // Returns null when the record at pos was applied, else why it is bad.
  private replayRecord(data: Buffer, pos: number): string | null {
    if (data.length - pos < RECORD_HEADER_BYTES) return 'incomplete record header';
    const length = data.readUInt32BE(pos);
    if (length < 1 || length > MAX_BODY_BYTES) return `impossible record length ${length}`;
    if (pos + RECORD_HEADER_BYTES + length > data.length) return 'record runs past the end of the file';
    const body = data.subarray(pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + length);
    if (crc32(body) !== data.readUInt32BE(pos + 4)) return 'CRC mismatch';
    // A record whose CRC matches but does not decode was written by a different format: that is not a torn tail.
    const cursor = new Cursor(body);
    try {
      const type = cursor.int8();
      if (type === RECORD_COMMIT) {
        const groupId = cursor.string16();
        const count = cursor.int32();
        const entries: StoredOffset[] = [];
        for (let i = 0; i < count; i++) {
          const topic = cursor.string16();
          const partition = cursor.int32();
          const offset = cursor.int64();
          const leaderEpoch = cursor.int32();
          const commitTimestampMs = cursor.int64();
          const metadata = cursor.nullableString32();
          entries.push({ topic, partition, offset, leaderEpoch, commitTimestampMs, metadata });
        }
        cursor.expectEnd();
        this.applyCommit(groupId, entries);
      } else if (type === RECORD_TOPIC_DELETED) {
        const topic = cursor.string16();
        cursor.expectEnd();
        this.applyTopicDeleted(topic);
      } else {
        throw new Error(`unknown record type ${type}`);
      }
    } catch (err) {
      throw new BrokerError(BrokerErrorCode.OFFSETS_CORRUPT, `${this.path} has an unreadable record at byte ${pos}: ${String(err)}`, {
        fields: { path: this.path, position: pos },
        cause: err,
      });
    }
    return null;
  }

  private applyCommit(groupId: string, entries: StoredOffset[]): void {
    if (entries.length === 0) return;
    let topics = this.groups.get(groupId);
    if (topics === undefined) {
      topics = new Map();
      this.groups.set(groupId, topics);
    }
    for (const e of entries) {
      let partitions = topics.get(e.topic);
      if (partitions === undefined) {
        partitions = new Map();
        topics.set(e.topic, partitions);
      }
      const previous = partitions.get(e.partition);
      if (previous !== undefined) this.liveBytes -= entryBytes(e.topic, previous.metadata);
      partitions.set(e.partition, {
        offset: e.offset,
        leaderEpoch: e.leaderEpoch,
        metadata: e.metadata,
        commitTimestampMs: e.commitTimestampMs,
      });
      this.liveBytes += entryBytes(e.topic, e.metadata);
    }
  }

  private applyTopicDeleted(topic: string): void {
    for (const [groupId, topics] of this.groups) {
      const partitions = topics.get(topic);
      if (partitions === undefined) continue;
      for (const committed of partitions.values()) this.liveBytes -= entryBytes(topic, committed.metadata);
      topics.delete(topic);
      if (topics.size === 0) this.groups.delete(groupId);
    }
  }
}

function entryBytes(topic: string, metadata: string | null): number {
  return ENTRY_FIXED_BYTES + Buffer.byteLength(topic) + (metadata === null ? 0 : Buffer.byteLength(metadata));
}

type EncodableEntry = { topic: string; partition: number; offset: number; leaderEpoch: number; commitTimestampMs: number; metadata: string | null };

// One record per group normally; split only when entries would exceed maxBodyBytes (large snapshots).
function encodeCommitRecords(groupId: string, entries: EncodableEntry[], maxBodyBytes: number): Buffer[] {
  const group = Buffer.from(groupId, 'utf8');
  assert(group.length <= 0xffff, 'group id longer than 65535 bytes');
  const headBytes = 1 + 2 + group.length + 4;
  const records: Buffer[] = [];
  let start = 0;
  while (start < entries.length) {
    let end = start;
    let bodyBytes = headBytes;
    while (end < entries.length) {
      const e = entries[end];
      assert(e !== undefined, 'entry index in range');
      const size = entryBytes(e.topic, e.metadata);
      if (end > start && bodyBytes + size > maxBodyBytes) break;
      bodyBytes += size;
      end++;
    }
    const w = new RecordBuilder(bodyBytes);
    w.int8(RECORD_COMMIT).string16(group).int32(end - start);
    for (let i = start; i < end; i++) {
      const e = entries[i];
      assert(e !== undefined, 'entry index in range');
      w.string16(Buffer.from(e.topic, 'utf8')).int32(e.partition).int64(e.offset).int32(e.leaderEpoch);
      w.int64(e.commitTimestampMs).nullableString32(e.metadata);
    }
    records.push(w.finish());
    start = end;
  }
  return records;
}

function encodeTopicDeleted(topic: string): Buffer {
  const name = Buffer.from(topic, 'utf8');
  return new RecordBuilder(1 + 2 + name.length).int8(RECORD_TOPIC_DELETED).string16(name).finish();
}

class RecordBuilder {
  private readonly buf: Buffer;
  private pos = RECORD_HEADER_BYTES;

  constructor(bodyBytes: number) {
    assert(bodyBytes <= MAX_BODY_BYTES, `record body of ${bodyBytes} bytes is too large`);
    this.buf = Buffer.alloc(RECORD_HEADER_BYTES + bodyBytes);
  }

  int8(v: number): this {
    this.pos = this.buf.writeInt8(v, this.pos);
    return this;
  }

  int32(v: number): this {
    this.pos = this.buf.writeInt32BE(v, this.pos);
    return this;
  }

  int64(v: number): this {
    this.pos = this.buf.writeBigInt64BE(BigInt(v), this.pos);
    return this;
  }

  string16(bytes: Buffer): this {
    assert(bytes.length <= 0xffff, 'string longer than 65535 bytes');
    this.pos = this.buf.writeUInt16BE(bytes.length, this.pos);
    this.pos += bytes.copy(this.buf, this.pos);
    return this;
  }

  nullableString32(v: string | null): this {
    if (v === null) return this.int32(-1);
    const bytes = Buffer.from(v, 'utf8');
    this.int32(bytes.length);
    this.pos += bytes.copy(this.buf, this.pos);
    return this;
  }

  finish(): Buffer {
    assert(this.pos === this.buf.length, `record size mismatch: wrote ${this.pos} of ${this.buf.length}`);
    const body = this.buf.subarray(RECORD_HEADER_BYTES);
    this.buf.writeUInt32BE(body.length, 0);
    this.buf.writeUInt32BE(crc32(body), 4);
    return this.buf;
  }
}

class Cursor {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private take(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error(`record ends early at byte ${this.pos}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  int64(): number {
    return Number(this.buf.readBigInt64BE(this.take(8)));
  }

  string16(): string {
    const length = this.buf.readUInt16BE(this.take(2));
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  nullableString32(): string | null {
    const length = this.int32();
    if (length === -1) return null;
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  expectEnd(): void {
    if (this.pos !== this.buf.length) throw new Error(`${this.buf.length - this.pos} unexpected bytes after the record`);
  }
}

// A crash can only cut the last write short: the bad record reaches the end of the file, or only zeros follow
// (a file extended without its data reaching the disk).
function isTornTail(data: Buffer, pos: number): boolean {
  if (data.length - pos < RECORD_HEADER_BYTES) return true;
  const length = data.readUInt32BE(pos);
  if (length >= 1 && length <= MAX_BODY_BYTES && pos + RECORD_HEADER_BYTES + length >= data.length) return true;
  return data.subarray(pos).every((b) => b === 0);
}

async function writeFully(file: FileHandle, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, null);
    written += bytesWritten;
  }
}

// A rename is durable only once its directory is synced. Windows cannot open a directory for that.
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}
