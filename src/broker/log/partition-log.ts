// The log of one partition: segments on disk, appends serialized and offset-assigned, reads from the files, recovery of a
// torn tail on open, retention by time and size, fsync policy, and idempotent-producer duplicate detection.
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { assert } from '../../errors.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import {
  BATCH_LOG_OVERHEAD,
  decodeRecords,
  setBatchBaseOffset,
  setBatchLeaderEpoch,
  type BatchHeader,
} from '../../kafka/record-batch.ts';
import { BrokerError, BrokerErrorCode } from '../errors.ts';
import type { FrameLease } from '../frame-pool.ts';
import type { StagingPool } from './direct-io.ts';
import { ProducerState, type ProducerEntry } from './producer-state.ts';
import { BatchScanner, LOG_SUFFIX, Segment, parseSegmentFileName, type RecoveryReport } from './segment.ts';

export type FsyncPolicy = { mode: 'always' } | { mode: 'interval'; intervalMs: number } | { mode: 'os' };

export type LogConfig = {
  segmentBytes: number;
  /** -1 = keep forever */
  retentionMs: number;
  /** -1 = unlimited */
  retentionBytes: number;
  maxMessageBytes: number;
  fsync: FsyncPolicy;
  indexIntervalBytes: number;
  /** Called with the log file of a segment that readers have most likely left behind (see page-cache.ts). */
  dropCache?: (file: string) => void;
  /** Staging memory for appends written with direct I/O (see direct-io.ts); without it appends go through the page cache. */
  staging?: StagingPool;
};

export type Clock = { now(): number };

export type AppendResult =
  | { ok: true; baseOffset: number; lastOffset: number; logAppendTimeMs: number; logStartOffset: number; duplicate: boolean }
  | { ok: false; errorCode: number; message: string };

export type ReadResult = { records: Buffer; outOfRange: boolean };

type QueuedAppend = { records: Buffer; batches: BatchHeader[]; resolve: (r: AppendResult) => void; reject: (err: unknown) => void };
type PreparedAppend = QueuedAppend & { stored: BatchHeader[]; baseOffset: number; lastOffset: number };
/** Appends written in one go whose answers wait for an fdatasync (fsync=always); `endOffset` follows their last batch. */
type SyncGroup = { items: PreparedAppend[]; endOffset: number };
/** A retried batch found written but not yet synced: answered once `offset` is below the synced end. */
type DurableWaiter = { offset: number; resolve: () => void; reject: (err: unknown) => void };

const INT32_MAX = 0x7fff_ffff;
/** Sealed segments whose file handle (and loaded indexes) stay open for readers, per partition. */
const MAX_OPEN_SEALED_SEGMENTS = 4;
/** A segment's page cache is dropped behind a reader at most this often, when readers at different places take turns. */
const DROP_BEHIND_INTERVAL_MS = 1000;
/** Producer state is rebuilt from the last segment, plus the one before when the last holds less than this. */
const PRODUCER_STATE_SCAN_BYTES = 8 << 20;
const EMPTY = Buffer.alloc(0);
const systemClock: Clock = { now: () => Date.now() };

function checkConfig(config: LogConfig): void {
  assert(Number.isInteger(config.segmentBytes) && config.segmentBytes > 0 && config.segmentBytes <= INT32_MAX, 'segmentBytes fits a 32-bit position');
  assert(Number.isInteger(config.indexIntervalBytes) && config.indexIntervalBytes >= 0, 'indexIntervalBytes >= 0');
  assert(config.fsync.mode !== 'interval' || config.fsync.intervalMs > 0, 'fsync intervalMs > 0');
}

function ioError(what: string, err: unknown): BrokerError {
  const reason = err instanceof Error ? err.message : String(err);
  // Retryable: a full disk may be freed; clients see KAFKA_STORAGE_ERROR and retry.
  return new BrokerError(BrokerErrorCode.LOG_IO_FAILED, `${what} failed: ${reason}`, { cause: err, retryable: true });
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some platforms cannot fsync a directory; there is nothing more durable to do there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}

export class PartitionLog {
  readonly dir: string;
  /** What recovery found on open: bytes cut from torn or corrupt tails, and why. */
  readonly recovery: RecoveryReport;

  private config: LogConfig;
  private readonly clock: Clock;
  private segments: Segment[];
  /** Offsets below this are acknowledged and readable (under fsync=always: synced). */
  private endOffset: number;
  /** Offsets below this are written to the active segment; above endOffset only while their fdatasync is pending. */
  private writtenEnd: number;
  /** fsync=always: groups written and waiting for the next fdatasync, the one running, and duplicates answered after it. */
  private syncWaiting: SyncGroup[] = [];
  private syncRunning: Promise<void> | null = null;
  /** The directory sync that makes the newest segment's file durable; awaited with the first fdatasync of its data. */
  private dirSync: Promise<void> | null = null;
  /** The sealing of the segment before the active one, while it runs in the background (see roll). */
  private sealing: Promise<void> | null = null;
  private durableWaiters: DurableWaiter[] = [];
  private readonly producers: ProducerState;
  private chain: Promise<unknown> = Promise.resolve();
  private appendQueue: QueuedAppend[] = [];
  private drainScheduled = false;
  private readonly openSealed = new Set<Segment>();
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private closed = false;
  /** Set when a failure left the files in a state appends must not build on (a failed roll or background fsync). */
  private broken: BrokerError | null = null;

  private constructor(dir: string, config: LogConfig, clock: Clock, segments: Segment[], producers: ProducerState, recovery: RecoveryReport) {
    this.dir = dir;
    this.config = config;
    this.clock = clock;
    this.segments = segments;
    this.producers = producers;
    this.recovery = recovery;
    this.endOffset = segments.at(-1)!.nextOffset;
    this.writtenEnd = this.endOffset;
    this.startTimer();
  }

  /** Opens (creating if needed) the log in `dir`, recovering a torn tail and rebuilding indexes and producer state. */
  static async open(dir: string, config: LogConfig, clock: Clock = systemClock): Promise<PartitionLog> {
    checkConfig(config);
    try {
      await mkdir(dir, { recursive: true });
      const bases: number[] = [];
      const indexFiles: Array<{ name: string; baseOffset: number }> = [];
      for (const name of await readdir(dir)) {
        const parsed = parseSegmentFileName(name);
        if (parsed === null) continue;
        if (parsed.suffix === LOG_SUFFIX) bases.push(parsed.baseOffset);
        else indexFiles.push({ name, baseOffset: parsed.baseOffset });
      }
      bases.sort((a, b) => a - b);
      const logs = new Set(bases);
      for (const f of indexFiles) if (!logs.has(f.baseOffset)) await rm(path.join(dir, f.name), { force: true });

      const producers = new ProducerState();
      const segments: Segment[] = [];
      let truncatedBytes = 0;
      const reasons: string[] = [];
      const note = (base: number, report: RecoveryReport): void => {
        truncatedBytes += report.truncatedBytes;
        if (report.reason !== null) reasons.push(`segment ${base}: ${report.reason}`);
      };
      for (let i = 0; i < bases.length - 1; i++) {
        const { segment, report } = await Segment.loadSealed(dir, bases[i]!, bases[i + 1]!, config.indexIntervalBytes);
        note(segment.baseOffset, report);
        segments.push(segment);
      }
      const lastBase = bases.at(-1);
      if (lastBase === undefined) {
        segments.push(await Segment.create(dir, 0, config.staging ?? null));
        if (config.fsync.mode !== 'os') await syncDir(dir);
      } else {
        const prev = segments.at(-1);
        const lastSize = (await stat(path.join(dir, `${String(lastBase).padStart(20, '0')}${LOG_SUFFIX}`))).size;
        if (prev !== undefined && lastSize < PRODUCER_STATE_SCAN_BYTES) await replayHeaders(prev, producers);
        const { segment, report } = await Segment.recoverActive(dir, lastBase, config.indexIntervalBytes, (h) => producers.replay(h), config.staging ?? null);
        note(lastBase, report);
        segments.push(segment);
      }
      return new PartitionLog(dir, config, clock, segments, producers, {
        truncatedBytes,
        reason: reasons.length === 0 ? null : reasons.join('; '),
      });
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('invariant violated')) throw err;
      throw ioError(`opening the partition log in ${dir}`, err);
    }
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  /** The next offset to be assigned; on one node also the high watermark. */
  get logEndOffset(): number {
    return this.endOffset;
  }

  get sizeBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.sizeBytes;
    return n;
  }

  /** How many segments the log has now (the last one is the active segment). */
  get segmentCount(): number {
    return this.segments.length;
  }

  updateConfig(config: LogConfig): void {
    checkConfig(config);
    const fsyncChanged = JSON.stringify(config.fsync) !== JSON.stringify(this.config.fsync);
    this.config = config;
    if (fsyncChanged) {
      this.stopTimer();
      this.startTimer();
    }
  }

  /** Appends the `records` bytes of a Produce request for this partition (already checked by validateBatches). */
  append(records: Buffer, batches: BatchHeader[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.appendQueue.push({ records, batches, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        this.enqueue(() => this.drainAppends()).catch(() => {});
      }
    });
  }

  /**
   * Whole batches from the one containing `fetchOffset` (it may start before it): at least that batch even when it is
   * larger than `maxBytes` (KIP-74), then more whole batches while the total stays within `maxBytes`. With a `lease`,
   * a large read goes into one of its buffers, which the caller gives back once it no longer needs the records.
   */
  async read(fetchOffset: number, maxBytes: number, lease?: FrameLease): Promise<ReadResult> {
    this.assertOpen();
    const end = this.endOffset;
    if (fetchOffset < this.logStartOffset || fetchOffset > end) return { records: EMPTY, outOfRange: true };
    if (fetchOffset === end) return { records: EMPTY, outOfRange: false };
    const segs = this.segments;
    let i = this.segmentIndexFor(fetchOffset);
    for (; i < segs.length; i++) {
      const seg = segs[i]!;
      const segEnd = seg.sizeBytes;
      let fh;
      try {
        fh = await this.acquire(seg);
      } catch (err) {
        if (seg.deleted) return { records: EMPTY, outOfRange: fetchOffset < this.logStartOffset };
        throw ioError(`opening ${seg.paths.log}`, err);
      }
      try {
        const found = await seg.locate(fh, fetchOffset, segEnd);
        if (found === null) continue;
        const n = Math.min(Math.max(found.header.byteLength, maxBytes), segEnd - found.pos);
        const data = await seg.readAt(fh, found.pos, n, lease);
        this.dropBehind(seg);
        return { records: data.subarray(0, wholeBatchesBefore(data, end)), outOfRange: false };
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('invariant violated')) throw err;
        throw ioError(`reading ${seg.paths.log}`, err);
      } finally {
        this.release(seg);
      }
    }
    return { records: EMPTY, outOfRange: false };
  }

  /** The first record whose timestamp is >= `timestampMs` (exact when its batch decodes), or null if none. */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
    this.assertOpen();
    const seg = this.segments.find((s) => s.sizeBytes > 0 && s.maxTimestamp >= timestampMs);
    if (seg === undefined) return null;
    const segEnd = seg.sizeBytes;
    let batch: Buffer;
    let header: BatchHeader;
    const fh = await this.acquire(seg).catch((err: unknown) => {
      throw ioError(`opening ${seg.paths.log}`, err);
    });
    try {
      const found = await seg.locateTimestamp(fh, timestampMs, segEnd);
      if (found === null) return null;
      header = found.header;
      batch = await seg.readAt(fh, found.pos, header.byteLength);
    } finally {
      this.release(seg);
    }
    // Batches written but still waiting for their fdatasync are not there yet for readers.
    if (header.baseOffset >= this.endOffset) return null;
    try {
      const first = (await decodeRecords(batch)).find((r) => r.timestamp >= timestampMs);
      if (first !== undefined) return { offset: first.offset, timestamp: first.timestamp };
    } catch {
      // A batch that does not decode (an unknown codec) still answers at batch granularity below.
    }
    return { offset: header.baseOffset, timestamp: header.maxTimestamp };
  }

  /** Deletes whole sealed segments past retention (time, then size); never the active one. */
  applyRetention(): Promise<{ deletedSegments: number }> {
    return this.enqueue(async () => {
      this.assertOpen();
      // The newest sealed segment may still be finishing its sealing; it is not deleted under it.
      if (this.sealing !== null) await this.sealing;
      const now = this.clock.now();
      const { retentionMs, retentionBytes } = this.config;
      let deletedSegments = 0;
      while (this.segments.length > 1) {
        const first = this.segments[0]!;
        const expired = retentionMs >= 0 && first.maxTimestamp < now - retentionMs;
        const oversize = retentionBytes >= 0 && this.sizeBytes - first.sizeBytes >= retentionBytes;
        if (!expired && !oversize) break;
        this.segments = this.segments.slice(1);
        first.deleted = true;
        this.openSealed.delete(first);
        try {
          if (first.refs === 0) await first.closeHandles();
          await first.deleteFiles();
        } catch (err) {
          throw ioError(`deleting segment ${first.paths.log}`, err);
        }
        deletedSegments++;
      }
      if (deletedSegments > 0 && this.config.fsync.mode !== 'os') {
        await syncDir(this.dir).catch((err: unknown) => {
          throw ioError(`syncing ${this.dir}`, err);
        });
      }
      return { deletedSegments };
    });
  }

  /** fsyncs everything written so far. */
  flush(): Promise<void> {
    return this.enqueue(() => {
      this.assertOpen();
      return this.syncNow();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    await this.chain;
    await this.syncsSettled();
    if (this.sealing !== null) await this.sealing;
    try {
      if (this.broken === null) await this.syncNow();
    } finally {
      for (const seg of this.segments) await seg.closeHandles();
      this.openSealed.clear();
    }
  }

  /** Calls `listener` after each append becomes readable; returns a function that unsubscribes. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // -------------------------------------------------------------------------------------------------------------------

  private get active(): Segment {
    return this.segments.at(-1)!;
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerError(BrokerErrorCode.LOG_CLOSED, `the partition log in ${this.dir} is closed`);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Writes every append queued so far as one group: each request is checked and given its offsets in arrival order,
   * then their bytes go to the segment in one write and one fdatasync, and each request gets its own answer. Appends
   * that arrive while a group is being written form the next group, so the cost of a sync is shared under load.
   */
  private async drainAppends(): Promise<void> {
    this.drainScheduled = false;
    const queue = this.appendQueue;
    this.appendQueue = [];
    let group: PreparedAppend[] = [];
    let groupBytes = 0;
    let pending = new Map<number, ProducerEntry>();
    let next = this.writtenEnd;
    const writeGroup = async () => {
      if (group.length === 0) return;
      const items = group;
      group = [];
      groupBytes = 0;
      try {
        await this.writeAppends(items, next, pending);
      } catch (err) {
        for (const item of items) item.reject(err);
        next = this.writtenEnd;
        // A retry answered "duplicate" of a batch in the group that failed refers to offsets that now go to other data.
        const failedFrom = next;
        for (const w of this.takeWaiters((w) => w.offset >= failedFrom)) w.reject(err);
      }
      pending = new Map();
    };
    for (const item of queue) {
      try {
        this.assertOpen();
        if (this.broken !== null) throw this.broken;
        const active = this.active;
        const used = active.sizeBytes + groupBytes;
        const relativeEnd = next + item.batches.reduce((n, h) => n + h.lastOffsetDelta + 1, 0) - 1 - active.baseOffset;
        if (used > 0 && (used + item.records.length > this.config.segmentBytes || relativeEnd > INT32_MAX)) {
          await writeGroup();
          // A segment is sealed only once everything written to it is synced and answered.
          await this.syncsSettled();
          if (this.broken !== null) throw this.broken;
          if (this.active.sizeBytes > 0) await this.roll();
        }
        const local = new Map(pending);
        const prepared = this.prepareAppend(item, next, local);
        if (prepared === null) continue; // answered already (refused or a duplicate)
        pending = local;
        next = prepared.lastOffset + 1;
        group.push(prepared);
        groupBytes += item.records.length;
      } catch (err) {
        item.reject(err);
      }
    }
    await writeGroup();
  }

  /** Sequence checks and offset assignment for one request; null when it was answered without writing. */
  private prepareAppend(item: QueuedAppend, baseOffset: number, pending: Map<number, ProducerEntry>): PreparedAppend | null {
    const { records, batches } = item;
    assert(batches.length > 0, 'append gets at least one batch');
    assert(batches.reduce((n, h) => n + h.byteLength, 0) === records.length, 'batch headers cover the records bytes');
    // Sequence checks first: nothing is written unless every batch of the request may be.
    let duplicates = 0;
    let dupBaseOffset = -1;
    let dupLastOffset = -1;
    let next = baseOffset;
    for (const h of batches) {
      const check = this.producers.check(h, pending);
      if (check.kind === 'error') {
        item.resolve({ ok: false, errorCode: check.errorCode, message: check.message });
        return null;
      }
      if (check.kind === 'duplicate') {
        if (duplicates === 0) dupBaseOffset = check.baseOffset;
        dupLastOffset = check.lastOffset;
        duplicates++;
        continue;
      }
      if (h.producerId >= 0) pending.set(h.producerId, this.producers.next(h, next, next + h.lastOffsetDelta, pending));
      next += h.lastOffsetDelta + 1;
    }
    if (duplicates > 0) {
      if (duplicates < batches.length) {
        item.resolve({ ok: false, errorCode: KafkaErrorCode.DUPLICATE_SEQUENCE_NUMBER, message: 'the request mixes already-written batches with new ones' });
        return null;
      }
      const answer = (): void => item.resolve({ ok: true, baseOffset: dupBaseOffset, lastOffset: dupLastOffset, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, duplicate: true });
      // A retry of a batch whose fdatasync is still running is acknowledged with it, not before.
      if (dupLastOffset < this.endOffset) answer();
      else this.durableWaiters.push({ offset: dupLastOffset, resolve: answer, reject: item.reject });
      return null;
    }
    const stored: BatchHeader[] = [];
    let pos = 0;
    let offset = baseOffset;
    for (const h of batches) {
      setBatchBaseOffset(records, pos, offset);
      setBatchLeaderEpoch(records, pos, 0);
      stored.push({ ...h, baseOffset: offset, partitionLeaderEpoch: 0 });
      offset += h.lastOffsetDelta + 1;
      pos += h.byteLength;
    }
    return { ...item, stored, baseOffset, lastOffset: offset - 1 };
  }

  /**
   * One write for a group of prepared appends, then their answers. Under fsync=always the answers wait for an
   * fdatasync that starts after the write, and the next group is written while it runs (see startSync).
   */
  private async writeAppends(items: PreparedAppend[], endOffset: number, pending: Map<number, ProducerEntry>): Promise<void> {
    const always = this.config.fsync.mode === 'always';
    // After a change of policy, earlier groups still waiting for their fdatasync are answered first.
    if (!always) await this.syncsSettled();
    const active = this.active;
    const bytes = items.map((i) => i.records);
    const headers = items.length === 1 ? items[0]!.stored : items.flatMap((i) => i.stored);
    try {
      await active.append(bytes, headers, this.config.indexIntervalBytes);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('invariant violated')) throw err;
      throw ioError(`appending to ${active.paths.log}`, err);
    }
    this.writtenEnd = endOffset;
    for (const [producerId, entry] of pending) this.producers.set(producerId, entry);
    if (always) {
      this.syncWaiting.push({ items, endOffset });
      this.startSync();
      return;
    }
    this.dirty = true;
    this.acknowledge(items, endOffset);
  }

  /** Makes a written group readable and answers its appends. */
  private acknowledge(items: readonly PreparedAppend[], endOffset: number): void {
    this.endOffset = Math.max(this.endOffset, endOffset);
    for (const listener of this.listeners) queueMicrotask(listener);
    for (const item of items) {
      item.resolve({ ok: true, baseOffset: item.baseOffset, lastOffset: item.lastOffset, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, duplicate: false });
    }
    const end = this.endOffset;
    for (const w of this.takeWaiters((w) => w.offset < end)) w.resolve();
  }

  /** Removes and returns the retries waiting for a flush that `match` picks. */
  private takeWaiters(match: (w: DurableWaiter) => boolean): DurableWaiter[] {
    if (this.durableWaiters.length === 0) return [];
    const taken: DurableWaiter[] = [];
    const kept: DurableWaiter[] = [];
    for (const w of this.durableWaiters) (match(w) ? taken : kept).push(w);
    this.durableWaiters = kept;
    return taken;
  }

  /**
   * fsync=always: one fdatasync of the active segment for every group written before it starts, then their answers.
   * While it runs, the appends that arrive are written and wait for the next one, so the disk's flush and the next
   * write overlap instead of taking turns. A failed fdatasync leaves it unknown what reached the disk: the log stops
   * taking appends (`broken`) and everything waiting is refused; reopening it verifies the tail.
   */
  private startSync(): void {
    if (this.syncRunning !== null || this.syncWaiting.length === 0) return;
    const groups = this.syncWaiting;
    this.syncWaiting = [];
    if (this.broken !== null) {
      this.refuseWaiting(groups, this.broken);
      return;
    }
    const seg = this.active;
    this.syncRunning = (async () => {
      try {
        await this.syncActiveData(seg);
      } catch (err) {
        this.broken ??= ioError(`fsync of ${seg.paths.log}`, err);
        this.refuseWaiting(groups, this.broken);
        return;
      }
      for (const g of groups) this.acknowledge(g.items, g.endOffset);
    })().finally(() => {
      this.syncRunning = null;
      this.startSync();
    });
  }

  private refuseWaiting(groups: readonly SyncGroup[], err: BrokerError): void {
    for (const g of groups) for (const item of g.items) item.reject(err);
    for (const w of this.takeWaiters(() => true)) w.reject(err);
  }

  /** Resolves once every written group has had its fdatasync and its answers (or been refused). */
  private async syncsSettled(): Promise<void> {
    while (this.syncRunning !== null || this.syncWaiting.length > 0) {
      if (this.syncRunning === null) this.startSync();
      await this.syncRunning;
    }
  }

  /**
   * Starts a new active segment. Appends go on into it at once: the old segment's sealing (closing time-index entry,
   * index syncs) runs in the background, since a crash before it ends only costs an index rebuild on open, and the
   * directory entry of the new file is synced alongside the first fdatasync of its data, before any answer from it.
   */
  private async roll(): Promise<Segment> {
    const old = this.active;
    const durable = this.config.fsync.mode !== 'os';
    try {
      await this.sealSettled();
      const seg = await Segment.create(this.dir, this.endOffset, this.config.staging ?? null);
      this.segments.push(seg);
      if (durable) {
        const dirSync = syncDir(this.dir);
        // Failures surface where it is awaited (startSync, syncNow); this only keeps the rejection handled meanwhile.
        dirSync.catch(() => {});
        this.dirSync = dirSync;
      }
      this.sealing = old.seal(durable).then(
        () => {
          this.sealing = null;
          this.openSealed.add(old);
          this.evict();
        },
        (err: unknown) => {
          this.sealing = null;
          this.broken ??= ioError(`sealing segment ${old.paths.log}`, err);
        },
      );
      // The segment before the one just sealed: a reader near the end of the log is in the last two.
      const behind = this.segments[this.segments.length - 3];
      if (behind !== undefined) this.dropCache(behind);
      return seg;
    } catch (err) {
      this.broken ??= ioError(`rolling a new segment at offset ${this.endOffset} in ${this.dir}`, err);
      throw this.broken;
    }
  }

  /** Waits for the background sealing of the previous active segment; throws if it failed. */
  private async sealSettled(): Promise<void> {
    if (this.sealing !== null) await this.sealing;
    if (this.broken !== null) throw this.broken;
  }

  /** fdatasync of the active segment, with the directory entry of a segment rolled since the last one. */
  private async syncActiveData(seg: Segment): Promise<void> {
    const dirSync = this.dirSync;
    await Promise.all([seg.syncLogData(), dirSync]);
    if (this.dirSync === dirSync) this.dirSync = null;
  }

  private dropCache(seg: Segment): void {
    if (this.config.dropCache === undefined) return;
    seg.cachedSinceDrop = false;
    seg.lastCacheDropMs = Date.now();
    this.config.dropCache(seg.paths.log);
  }

  /**
   * A reader catching up has just read `seg` (older than the last two segments), so the segment before it is behind
   * that reader: its pages are dropped too, and the next reads recycle that memory instead of taking fresh pages.
   */
  private dropBehind(seg: Segment): void {
    seg.cachedSinceDrop = true;
    if (this.config.dropCache === undefined) return;
    // Looked up again: retention may have removed segments while the read was waiting.
    const i = this.segments.indexOf(seg);
    if (i < 1 || i >= this.segments.length - 2) return;
    const behind = this.segments[i - 1]!;
    if (behind.cachedSinceDrop && Date.now() - behind.lastCacheDropMs >= DROP_BEHIND_INTERVAL_MS) this.dropCache(behind);
  }

  private async syncNow(): Promise<void> {
    this.dirty = false;
    // The segment sealed last is synced by its sealing; a failure there is already in `broken`.
    await this.sealSettled();
    const seg = this.active;
    const dirSync = this.dirSync;
    try {
      await Promise.all([seg.sync(), dirSync]);
    } catch (err) {
      this.broken ??= ioError(`fsync of ${seg.paths.log}`, err);
      throw this.broken;
    }
    if (this.dirSync === dirSync) this.dirSync = null;
  }

  private startTimer(): void {
    const fsync = this.config.fsync;
    if (fsync.mode !== 'interval') return;
    this.timer = setInterval(() => {
      if (!this.dirty || this.closed) return;
      // A failure is kept in `broken` by syncNow and fails the next append, so nothing is lost silently here.
      this.flush().catch(() => {});
    }, fsync.intervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Index of the last segment whose base offset is <= offset. */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private async acquire(seg: Segment): Promise<Awaited<ReturnType<Segment['handle']>>> {
    seg.refs++;
    try {
      const fh = await seg.handle();
      if (!seg.pinned && !seg.deleted) {
        this.openSealed.delete(seg);
        this.openSealed.add(seg);
      }
      return fh;
    } catch (err) {
      seg.refs--;
      throw err;
    }
  }

  private release(seg: Segment): void {
    seg.refs--;
    if (seg.deleted && seg.refs === 0) seg.closeHandles().catch(() => {});
    else this.evict();
  }

  /** Closes the least recently used idle sealed segments beyond the bound. */
  private evict(): void {
    if (this.openSealed.size <= MAX_OPEN_SEALED_SEGMENTS) return;
    for (const seg of this.openSealed) {
      if (this.openSealed.size <= MAX_OPEN_SEALED_SEGMENTS) break;
      if (seg.refs > 0 || seg.pinned) continue;
      this.openSealed.delete(seg);
      seg.closeHandles().catch(() => {});
    }
  }
}

/** Feeds the producer state with every batch header of a sealed segment (no CRC check: recovery did that). */
async function replayHeaders(seg: Segment, producers: ProducerState): Promise<void> {
  const fh = await open(seg.paths.log, 'r');
  try {
    const scanner = new BatchScanner(fh, 0, seg.sizeBytes, false);
    while (true) {
      const step = await scanner.next();
      if (step.kind !== 'batch') return;
      producers.replay(step.header);
    }
  } finally {
    await fh.close();
  }
}

/** Length of the prefix of `data` made of whole batches with base offsets below `endOffset`. */
function wholeBatchesBefore(data: Buffer, endOffset: number): number {
  let pos = 0;
  while (pos + BATCH_LOG_OVERHEAD <= data.length) {
    const len = BATCH_LOG_OVERHEAD + data.readInt32BE(pos + 8);
    if (pos + len > data.length) break;
    if (data.readInt32BE(pos) * 0x1_0000_0000 + data.readUInt32BE(pos + 4) >= endOffset) break;
    pos += len;
  }
  assert(pos > 0, 'a read returns at least the batch containing the fetch offset');
  return pos;
}
