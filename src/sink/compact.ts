// Compaction: merges runs of small files of one lake partition and Kafka partition into files of a target size.
//
// A run is a sequence of consecutive files (by offset) of one directory and Kafka partition, so the merged file,
// named with the run's first and last offset, holds exactly the records of the files whose ranges it contains. It is
// written, made visible atomically, and only then are the merged files deleted; until they are, readers skip them
// (lake-view.ts, rule 1), so a reader sees the old set or the new set, never both and never neither. The files of
// each Kafka partition's newest unit are left alone: sink recovery starts from that unit (sink.ts).
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assert } from '../errors.ts';
import { LocalObjectStore, type ObjectStore } from '../storage/index.ts';
import { SinkError, SinkErrorCode } from './errors.ts';
import { dataFileName, type ParquetCodec } from './file-name.ts';
import { listDataFiles, visibleFiles, type LakeDataFile } from './lake-view.ts';
import { quoteString } from './parquet-schema.ts';

export type CompactOptions = {
  topic: string;
  /** Where the topic's files are listed (listingPrefix of the sink's pathFormat). */
  prefix: string;
  /** Merged files aim at this size; files at least this large are left as they are. */
  targetBytes: number;
  /** Only directories whose newest file is at least this old are compacted (a partition still being written is not closed). */
  minAgeMs: number;
  /** Only directories starting with one of these (relative to the store root); all when empty. */
  partitions?: readonly string[];
  compression?: ParquetCodec;
  /** Where inputs from remote stores and the merged file are staged. */
  workDir?: string;
  now?: () => number;
  log?: (line: string) => void;
};

export type CompactResult = {
  /** Merges done: the inputs and the file that replaced them. */
  merged: { dir: string; kafkaPartition: number; inputs: string[]; output: string; rows: number; bytes: number }[];
  /** Files a compacted file already replaced (an earlier compaction stopped before deleting them), now deleted. */
  removedSuperseded: string[];
  /** Directories skipped because their newest file is younger than minAgeMs. */
  skippedOpen: string[];
};

export async function compactTable(store: ObjectStore, options: CompactOptions): Promise<CompactResult> {
  assert(Number.isSafeInteger(options.targetBytes) && options.targetBytes >= 1, 'targetBytes must be a positive whole number');
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const codec = options.compression ?? 'snappy';
  const all = await listDataFiles(store, options.topic, options.prefix);
  const { visible, superseded } = visibleFiles(all);
  const result: CompactResult = { merged: [], removedSuperseded: [], skippedOpen: [] };
  const selected = (dir: string) => options.partitions === undefined || options.partitions.length === 0 || options.partitions.some((p) => dir.startsWith(p));

  for (const f of superseded) {
    if (!selected(f.dir)) continue;
    await store.delete(f.key);
    result.removedSuperseded.push(f.key);
  }
  if (result.removedSuperseded.length > 0) log(`deleted ${result.removedSuperseded.length} file(s) that an earlier compaction had already replaced`);

  // The newest unit of each Kafka partition: its first offset over all directories.
  const newestFirst = new Map<number, number>();
  const maxLast = new Map<number, number>();
  for (const f of visible) maxLast.set(f.kafkaPartition, Math.max(maxLast.get(f.kafkaPartition) ?? -1, f.lastOffset));
  for (const f of visible) {
    if (f.lastOffset !== maxLast.get(f.kafkaPartition)) continue;
    newestFirst.set(f.kafkaPartition, Math.min(newestFirst.get(f.kafkaPartition) ?? Infinity, f.firstOffset));
  }

  const byDir = new Map<string, LakeDataFile[]>();
  for (const f of visible) {
    if (!selected(f.dir)) continue;
    let list = byDir.get(f.dir);
    if (list === undefined) byDir.set(f.dir, (list = []));
    list.push(f);
  }
  const runs: LakeDataFile[][] = [];
  for (const [dir, files] of byDir) {
    const newest = Math.max(...files.map((f) => f.mtime.getTime()));
    if (now() - newest < options.minAgeMs) {
      result.skippedOpen.push(dir);
      continue;
    }
    const byPartition = new Map<number, LakeDataFile[]>();
    for (const f of files) {
      let list = byPartition.get(f.kafkaPartition);
      if (list === undefined) byPartition.set(f.kafkaPartition, (list = []));
      list.push(f);
    }
    for (const [k, list] of byPartition) {
      list.sort((a, b) => a.firstOffset - b.firstOffset);
      let run: LakeDataFile[] = [];
      let size = 0;
      const close = () => {
        if (run.length >= 2) runs.push(run);
        run = [];
        size = 0;
      };
      for (const f of list) {
        // A run never reaches into the newest unit, and a file already at the target size ends the run before it.
        if (f.lastOffset >= (newestFirst.get(k) ?? Infinity) || f.size >= options.targetBytes) {
          close();
          continue;
        }
        if (size + f.size > options.targetBytes) close();
        run.push(f);
        size += f.size;
      }
      close();
    }
  }
  if (runs.length === 0) return result;

  const staging = await mkdtemp(path.join(options.workDir ?? os.tmpdir(), 'oxbow-compact-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  try {
    const connection = await instance.connect();
    try {
      for (const [i, run] of runs.entries()) {
        const first = run[0]!;
        const last = run[run.length - 1]!;
        const inputs: string[] = [];
        for (const f of run) {
          if (store instanceof LocalObjectStore) inputs.push(path.join(store.root, f.key));
          else {
            // Staged under their own names: the merge orders rows by the offsets in the file names.
            const local = path.join(staging, String(i), f.key.slice(f.key.lastIndexOf('/') + 1));
            await mkdir(path.dirname(local), { recursive: true });
            await store.download(f.key, local);
            inputs.push(local);
          }
        }
        const output = path.join(staging, `${i}.parquet`);
        const list = inputs.map(quoteString).join(', ');
        const firstOffset = `CAST(regexp_extract(_oxbow_file, '\\+([0-9]+)\\+[0-9]+\\.[a-z]+\\.parquet$', 1) AS BIGINT)`;
        let rows: number;
        let expected: number;
        try {
          expected = Number((await connection.runAndReadAll(`SELECT sum(num_rows) AS n FROM parquet_file_metadata([${list}])`)).getRowObjectsJson()[0]?.n ?? 0);
          // Rows keep their offset order (the replay rule reads the last row of a lineage as the newest).
          const copy = await connection.runAndReadAll(
            `COPY (SELECT * EXCLUDE (_oxbow_file, file_row_number) FROM read_parquet([${list}], filename = '_oxbow_file', file_row_number = true, union_by_name = true) ` +
              `ORDER BY ${firstOffset}, file_row_number) TO ${quoteString(output)} (FORMAT parquet, COMPRESSION ${codec})`,
          );
          rows = Number(copy.getRowObjectsJson()[0]?.Count ?? 0);
        } catch (e) {
          throw new SinkError(SinkErrorCode.PARQUET_WRITE_FAILED, `compacting ${run.length} files of ${first.dir} failed: ${(e as Error).message}`, { cause: e, fields: { dir: first.dir } });
        }
        assert(rows === expected, `merged ${rows} rows from files holding ${expected}`);
        const key = `${first.dir}${dataFileName(options.topic, first.kafkaPartition, first.firstOffset, last.lastOffset, codec)}`;
        const put = await store.put(key, { path: output });
        for (const f of run) await store.delete(f.key);
        await rm(output, { force: true });
        for (const input of inputs) if (input.startsWith(staging)) await rm(input, { force: true });
        result.merged.push({ dir: first.dir, kafkaPartition: first.kafkaPartition, inputs: run.map((f) => f.key), output: key, rows, bytes: put.size });
        log(`merged ${run.length} files of ${first.dir} (Kafka partition ${first.kafkaPartition}) into ${key.slice(first.dir.length)}: ${rows} rows, ${put.size} bytes`);
      }
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
    await rm(staging, { recursive: true, force: true });
  }
  return result;
}
