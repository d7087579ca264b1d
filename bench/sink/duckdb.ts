// DuckDB in the sink benchmark: the baseline (one COPY of the NDJSON file to Parquet, the same SQL the sink's writer
// runs per file) and the check of what a run left in the lake.
import { DuckDBInstance } from '@duckdb/node-api';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ParquetSchemaMapping } from '../../src/sink/index.ts';
import { TEMPORARY_PREFIX } from '../../src/storage/index.ts';
import { wallMs } from '../broker/stats.ts';

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

export type BaselineFigures = { rows: number; seconds: number; rowsPerSecond: number; parquetBytes: number };

/**
 * Writes `ndjsonFile` as one snappy Parquet file with a fresh DuckDB (default threads and memory limit), reading it
 * with the sink's explicit column types and select list.
 */
export async function duckdbBaseline(ndjsonFile: string, mapping: ParquetSchemaMapping, parquetFile: string, maxLineBytes: number): Promise<BaselineFigures> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const c = await instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    const columns = mapping.readColumns.map((col) => `${quote(col.field)}: ${quote(col.duckType)}`).join(', ');
    const sql =
      `COPY (SELECT ${mapping.selectList.join(', ')} FROM read_json(${quote(ndjsonFile)}, columns = {${columns}}, ` +
      `format = 'newline_delimited', maximum_object_size = ${Math.max(maxLineBytes + 1, 16 * 1024 * 1024)})) ` +
      `TO ${quote(parquetFile)} (FORMAT parquet, COMPRESSION snappy)`;
    const started = wallMs();
    const result = await c.runAndReadAll(sql);
    const seconds = (wallMs() - started) / 1000;
    const rows = Number(result.getRowObjectsJson()[0]?.Count ?? 0);
    c.closeSync();
    return { rows, seconds, rowsPerSecond: rows / seconds, parquetBytes: (await stat(parquetFile)).size };
  } finally {
    instance.closeSync();
  }
}

export type LakeCheck = { files: number; parquetBytes: number; rows: number; distinctLineage: number; ok: boolean };

/** Data files under `root` (absolute paths); temporary objects of interrupted writes are not data. */
async function dataFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet') && !entry.name.startsWith(TEMPORARY_PREFIX)) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** Counts the lake's rows and distinct lineage (Kafka partition, offset) pairs; ok when both equal `records`. */
export async function checkLake(root: string, records: number): Promise<LakeCheck> {
  const files = await dataFiles(root);
  let parquetBytes = 0;
  for (const f of files) parquetBytes += (await stat(f)).size;
  if (files.length === 0) return { files: 0, parquetBytes, rows: 0, distinctLineage: 0, ok: records === 0 };
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  try {
    const c = await instance.connect();
    const list = files.map(quote).join(', ');
    const rows = (
      await c.runAndReadAll(`SELECT count(*)::BIGINT AS n, count(DISTINCT (_source_partition, _source_offset))::BIGINT AS d FROM read_parquet([${list}])`)
    ).getRowObjectsJson();
    c.closeSync();
    const n = Number(rows[0]?.n ?? 0);
    const d = Number(rows[0]?.d ?? 0);
    return { files: files.length, parquetBytes, rows: n, distinctLineage: d, ok: n === records && d === records };
  } finally {
    instance.closeSync();
  }
}
