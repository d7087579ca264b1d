// Where a sink task resumes a Kafka partition: read back from the committed file names in the golden zone.
// The offsets in the names are the truth; the Kafka consumer group offset is only a hint that may lag behind them.
import { assert } from '../errors.ts';
import type { CleanupOptions, ObjectStore } from '../storage/index.ts';
import { parseDataFileName, type DataFileName } from './file-name.ts';

export type RecoveredFile = DataFileName & {
  /** The object key, relative to the store's root. */
  readonly key: string;
  readonly size: number;
};

/** Offsets from firstOffset to lastOffset, both inclusive. */
export type OffsetRange = { readonly firstOffset: number; readonly lastOffset: number };

/** Offsets held by more than one committed file: those records are in the lake twice. */
export type OffsetOverlap = OffsetRange & { readonly keys: readonly [string, string] };

export type PartitionPosition = {
  /** The next offset to write: the highest committed lastOffset + 1, or null when no file is committed. */
  readonly nextOffset: number | null;
  /** The partition's committed files, by firstOffset (then key). */
  readonly files: readonly RecoveredFile[];
  /** Offsets between the first and last committed offset that no file holds; reported, not fatal. */
  readonly gaps: readonly OffsetRange[];
  /** Offsets that two files both hold; each file is paired with the earlier file that reaches furthest. */
  readonly overlaps: readonly OffsetOverlap[];
};

export type RecoverPartitionOptions = {
  readonly topic: string;
  readonly kafkaPartition: number;
  /** Where the topic's files live; default `golden/<topic>/`. Files of other topics or partitions under it are skipped. */
  readonly topicPrefix?: string | undefined;
};

/**
 * Lists the committed files of one Kafka partition and works out where to resume. Files of different lake partitions
 * interleave (one batch of offsets can be split across hour partitions), so the position is the maximum lastOffset,
 * and gaps and overlaps are computed over all the partition's ranges together.
 */
export async function recoverPartitionPosition(store: ObjectStore, options: RecoverPartitionOptions): Promise<PartitionPosition> {
  const { topic, kafkaPartition } = options;
  assert(Number.isSafeInteger(kafkaPartition) && kafkaPartition >= 0, `kafkaPartition ${kafkaPartition} is not a partition number`);
  const topicPrefix = options.topicPrefix ?? `golden/${topic}/`;
  const files: RecoveredFile[] = [];
  for await (const object of store.list(topicPrefix)) {
    const parsed = parseDataFileName(object.key);
    if (parsed === null || parsed.topic !== topic || parsed.kafkaPartition !== kafkaPartition) continue;
    files.push({ ...parsed, key: object.key, size: object.size });
  }
  files.sort((a, b) => a.firstOffset - b.firstOffset || a.lastOffset - b.lastOffset || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { nextOffset: files.length === 0 ? null : Math.max(...files.map((f) => f.lastOffset)) + 1, files, ...gapsAndOverlaps(files) };
}

/** Gaps and overlaps of ranges sorted by firstOffset. */
export function gapsAndOverlaps(files: readonly (OffsetRange & { readonly key: string })[]): { gaps: OffsetRange[]; overlaps: OffsetOverlap[] } {
  const gaps: OffsetRange[] = [];
  const overlaps: OffsetOverlap[] = [];
  let reach: (OffsetRange & { readonly key: string }) | undefined; // the file so far with the highest lastOffset
  let previousFirst = -Infinity;
  for (const file of files) {
    assert(file.firstOffset >= previousFirst && file.lastOffset >= file.firstOffset, 'ranges must be sorted by firstOffset');
    previousFirst = file.firstOffset;
    if (reach !== undefined) {
      if (file.firstOffset > reach.lastOffset + 1) gaps.push({ firstOffset: reach.lastOffset + 1, lastOffset: file.firstOffset - 1 });
      else if (file.firstOffset <= reach.lastOffset) {
        overlaps.push({ firstOffset: file.firstOffset, lastOffset: Math.min(file.lastOffset, reach.lastOffset), keys: [reach.key, file.key] });
      }
    }
    if (reach === undefined || file.lastOffset > reach.lastOffset) reach = file;
  }
  return { gaps, overlaps };
}

/**
 * Removes what interrupted writes left under `prefix` (temporary files, unfinished multipart uploads), which were
 * never visible to list and so never counted as committed. Returns how many were removed.
 */
export function cleanupLeftovers(store: ObjectStore, prefix: string, options: CleanupOptions = {}): Promise<number> {
  return store.cleanupTemporary(prefix, options);
}
