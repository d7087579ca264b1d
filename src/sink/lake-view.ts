// What a reader of the golden zone should see, given the files that are there. Two rules, both decided from names and
// lineage columns alone, so any reader can apply them (Oxbow's own commands do):
//
// 1. Compaction. Within one directory, the files the sink writes for one Kafka partition hold disjoint offset ranges.
//    A compacted file is named with the range of the files it merged, so while both exist (between the merged file
//    becoming visible and the old files being deleted) the old files' ranges lie inside the new one's: a file whose
//    range another file of the same directory and Kafka partition contains is superseded and not read.
// 2. Replay. A raw record processed again (oxbow stream replay) reaches the lake a second time with the same lineage
//    (`_source_topic`, `_source_partition`, `_source_offset`) at a later offset of the processed topic. For each
//    lineage the row at the highest processed offset is current: the file with the highest last offset, then the
//    last such row in the file (rows are in offset order). Rows without lineage are all current.
import { parseDataFileName, type DataFileName } from './file-name.ts';
import { quoteString } from './parquet-schema.ts';
import type { ObjectStore } from '../storage/index.ts';

export type LakeDataFile = DataFileName & {
  /** Object key, relative to the store's root. */
  readonly key: string;
  /** The directory (lake partition path) of the file, ending with `/`. */
  readonly dir: string;
  readonly size: number;
  readonly mtime: Date;
};

/** Every data file of `topic` under `prefix`, in key order. */
export async function listDataFiles(store: ObjectStore, topic: string, prefix: string): Promise<LakeDataFile[]> {
  const files: LakeDataFile[] = [];
  for await (const object of store.list(prefix)) {
    const parsed = parseDataFileName(object.key);
    if (parsed === null || parsed.topic !== topic) continue;
    files.push({ ...parsed, key: object.key, dir: object.key.slice(0, object.key.lastIndexOf('/') + 1), size: object.size, mtime: object.mtime });
  }
  return files;
}

/** Splits files into those a reader reads and those a compacted file supersedes (rule 1 above). */
export function visibleFiles<F extends LakeDataFile>(files: readonly F[]): { visible: F[]; superseded: F[] } {
  const groups = new Map<string, F[]>();
  for (const f of files) {
    const id = `${f.dir}\u0000${f.kafkaPartition}`;
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = []));
    group.push(f);
  }
  const visible: F[] = [];
  const superseded: F[] = [];
  for (const group of groups.values()) {
    // Widest first among equal starts, so a container comes before what it contains.
    group.sort((a, b) => a.firstOffset - b.firstOffset || b.lastOffset - a.lastOffset);
    let reach = -1;
    for (const f of group) {
      if (f.lastOffset <= reach) superseded.push(f);
      else {
        visible.push(f);
        reach = f.lastOffset;
      }
    }
  }
  const byKey = (a: F, b: F) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return { visible: visible.sort(byKey), superseded: superseded.sort(byKey) };
}

/** Name of the column that `currentRowsSql` uses for the file of a row; not in the result. */
const FILE_COLUMN = '_oxbow_file';

/**
 * A DuckDB query over local Parquet files (the visible files of one table) returning the current rows (rule 2 above),
 * every column of every file (columns missing from older files read as null).
 */
export function currentRowsSql(localPaths: readonly string[]): string {
  const list = localPaths.map(quoteString).join(', ');
  const lastOffset = `CAST(regexp_extract(${FILE_COLUMN}, '\\+([0-9]+)\\.[a-z]+\\.parquet$', 1) AS BIGINT)`;
  return (
    `SELECT * EXCLUDE (${FILE_COLUMN}, file_row_number) FROM read_parquet([${list}], filename = '${FILE_COLUMN}', file_row_number = true, union_by_name = true) ` +
    `QUALIFY _source_offset IS NULL OR row_number() OVER (PARTITION BY _source_topic, _source_partition, _source_offset ` +
    `ORDER BY ${lastOffset} DESC, file_row_number DESC) = 1`
  );
}
