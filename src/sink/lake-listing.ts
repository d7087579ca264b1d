// What a table of the golden zone holds: its lake partitions (directories) and data files, with sizes and row counts.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalObjectStore, type ObjectStore } from '../storage/index.ts';
import type { DataFileName } from './file-name.ts';
import { listDataFiles, visibleFiles } from './lake-view.ts';
import { quoteString } from './parquet-schema.ts';

export type LakeFile = DataFileName & { key: string; size: number; rows: number };
export type LakePartition = { path: string; files: LakeFile[]; rows: number; bytes: number };

/**
 * Lists the data files a reader reads (files a compaction has replaced are left out) of `topic` under `prefix`
 * (e.g. `golden/orders.processed/`), grouped by directory in key order. Row counts come from each file's Parquet
 * footer (S3 objects are downloaded to a temporary directory to read it).
 */
export async function listLake(store: ObjectStore, topic: string, prefix: string): Promise<LakePartition[]> {
  const files: Omit<LakeFile, 'rows'>[] = visibleFiles(await listDataFiles(store, topic, prefix)).visible.map((f) => ({
    topic: f.topic,
    kafkaPartition: f.kafkaPartition,
    firstOffset: f.firstOffset,
    lastOffset: f.lastOffset,
    codec: f.codec,
    key: f.key,
    size: f.size,
  }));
  const rows = await rowCounts(store, files.map((f) => f.key));
  const partitions = new Map<string, LakePartition>();
  for (const f of files) {
    const dir = f.key.slice(0, f.key.lastIndexOf('/') + 1);
    let p = partitions.get(dir);
    if (p === undefined) partitions.set(dir, (p = { path: dir, files: [], rows: 0, bytes: 0 }));
    const file = { ...f, rows: rows.get(f.key) ?? 0 };
    p.files.push(file);
    p.rows += file.rows;
    p.bytes += file.size;
  }
  for (const p of partitions.values()) p.files.sort((a, b) => a.kafkaPartition - b.kafkaPartition || a.firstOffset - b.firstOffset || a.lastOffset - b.lastOffset);
  return [...partitions.values()];
}

async function rowCounts(store: ObjectStore, keys: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (keys.length === 0) return counts;
  let temp: string | null = null;
  const localPath = new Map<string, string>();
  if (store instanceof LocalObjectStore) {
    for (const k of keys) localPath.set(k, path.join(store.root, k));
  } else {
    temp = await mkdtemp(path.join(os.tmpdir(), 'oxbow-lake-ls-'));
    let i = 0;
    for (const k of keys) {
      const local = path.join(temp, `${i++}.parquet`);
      await store.download(k, local);
      localPath.set(k, local);
    }
  }
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const connection = await instance.connect();
    const byLocal = new Map([...localPath].map(([k, l]) => [l, k]));
    for (let start = 0; start < keys.length; start += 500) {
      const list = keys.slice(start, start + 500).map((k) => quoteString(localPath.get(k)!)).join(', ');
      const result = await connection.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${list}])`);
      for (const row of result.getRowObjectsJson()) counts.set(byLocal.get(String(row.file_name))!, Number(row.num_rows));
    }
    connection.closeSync();
  } finally {
    instance.closeSync();
    if (temp !== null) await rm(temp, { recursive: true, force: true });
  }
  return counts;
}
