// The crawler: keeps the catalog in step with the golden zone. Per table it lists the files a reader reads, registers
// the new ones (schema and statistics from their Parquet footers) and unregisters the ones that are gone. Listing is
// one pass over the table's keys; footers are read only for new files, so the cost of a crawl follows what changed.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listDataFiles, quoteString, visibleFiles, type LakeDataFile } from '../sink/index.ts';
import { LocalObjectStore, type ObjectStore } from '../storage/index.ts';
import type { CatalogColumn, CatalogFile, CatalogStore, ColumnStatistics } from './store.ts';

/** The pseudo column statistic the crawler records for each file: how many rows repeat a lineage of that file. */
export const DUPLICATE_LINEAGE_STAT = '_oxbow_duplicate_lineage';

/** What the crawler needs to know of one table: where its files are and what its columns are. */
export type CrawlTable = {
  name: string;
  /** The processed topic whose files make up the table. */
  topic: string;
  /** Where its files are listed, e.g. `golden/orders.processed/`. */
  location: string;
  eventTimeColumn: string | null;
  /** Field partitions, outermost first; time partitions follow as year, month, day, hour (down to the granularity). */
  partitionKeys: string[];
  /** The columns of the table's current schema. */
  columns: CatalogColumn[];
  owner?: string | null;
  tags?: Record<string, string>;
};

export type CrawlProblem = { table: string; path: string; why: string };
export type CrawlResult = { tables: { name: string; added: number; removed: number; files: number }[]; problems: CrawlProblem[]; elapsedMs: number };

const FOOTERS_PER_QUERY = 200;

/** Registers what is new and unregisters what is gone, for every table; a file that cannot be read is reported and skipped. */
export async function crawl(catalog: CatalogStore, store: ObjectStore, namespace: string, tables: readonly CrawlTable[], log: (line: string) => void = () => undefined): Promise<CrawlResult> {
  const started = performance.now();
  await catalog.createNamespace(namespace);
  const result: CrawlResult = { tables: [], problems: [], elapsedMs: 0 };
  // Two threads: reading footers and the lineage columns of new files is the crawl's own work.
  const instance = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '256MB' });
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const t of tables) {
      const timeKeys = ['year', 'month', 'day', 'hour'];
      await catalog.upsertTable(
        { namespace, name: t.name, location: t.location, format: 'parquet', partitionKeys: t.partitionKeys, eventTimeColumn: t.eventTimeColumn, owner: t.owner ?? null, tags: t.tags ?? {} },
        t.columns,
      );
      await catalog.evolveSchema(namespace, t.name, t.columns);
      const { visible } = visibleFiles(await listDataFiles(store, t.topic, t.location));
      const registered = await catalog.listPaths(namespace, t.name);
      const present = new Set(visible.map((f) => f.key));
      const gone = [...registered].filter((p) => !present.has(p));
      const fresh = visible.filter((f) => !registered.has(f.key));
      if (gone.length > 0) await catalog.removeFiles(namespace, t.name, gone);
      const { files, problems } = await readFooters(connection, store, t, fresh);
      for (const p of problems) log(`cannot register ${p.path} of table ${t.name}: ${p.why}; skipped`);
      result.problems.push(...problems);
      for (let i = 0; i < files.length; i += 1000) {
        const batch = files.slice(i, i + 1000);
        const values: Record<string, Record<string, string>> = {};
        for (const f of batch) values[f.partition] ??= partitionValues(f.partition.slice(t.location.length), t.partitionKeys.filter((k) => !timeKeys.includes(k)));
        await catalog.addFiles(namespace, t.name, batch, values);
      }
      result.tables.push({ name: t.name, added: files.length, removed: gone.length, files: registered.size - gone.length + files.length });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  result.elapsedMs = performance.now() - started;
  return result;
}

/**
 * Partition values of a directory below the table's location: `field=value` segments by name, then the time segments
 * as year, month, day, hour (a `name=` prefix, as in the hive layout, is dropped).
 */
export function partitionValues(relativeDir: string, fieldKeys: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  const timeKeys = ['year', 'month', 'day', 'hour'];
  let t = 0;
  for (const segment of relativeDir.split('/').filter((s) => s !== '')) {
    const eq = segment.indexOf('=');
    const key = eq === -1 ? null : segment.slice(0, eq);
    const value = eq === -1 ? segment : decodeURIComponent(segment.slice(eq + 1));
    if (key !== null && fieldKeys.includes(key)) values[key] = value;
    else if (t < timeKeys.length) values[timeKeys[t++]!] = value;
  }
  return values;
}

async function readFooters(connection: DuckDBConnection, store: ObjectStore, table: CrawlTable, files: LakeDataFile[]): Promise<{ files: CatalogFile[]; problems: CrawlProblem[] }> {
  const out: CatalogFile[] = [];
  const problems: CrawlProblem[] = [];
  if (files.length === 0) return { files: out, problems };
  const staging = store instanceof LocalObjectStore ? null : await mkdtemp(path.join(os.tmpdir(), 'oxbow-crawl-'));
  try {
    for (let i = 0; i < files.length; i += FOOTERS_PER_QUERY) {
      const batch = files.slice(i, i + FOOTERS_PER_QUERY);
      const locals = new Map<string, LakeDataFile>();
      for (const f of batch) {
        let local: string;
        if (store instanceof LocalObjectStore) local = path.join(store.root, f.key);
        else {
          local = path.join(staging!, f.key);
          try {
            await mkdir(path.dirname(local), { recursive: true });
            await store.download(f.key, local);
          } catch (err) {
            problems.push({ table: table.name, path: f.key, why: `download failed: ${(err as Error).message}` });
            continue;
          }
        }
        locals.set(local, f);
      }
      try {
        out.push(...(await footers(connection, table, locals)));
      } catch {
        // One unreadable file fails the whole query: read them one by one to find it.
        for (const [local, f] of locals) {
          try {
            out.push(...(await footers(connection, table, new Map([[local, f]]))));
          } catch (err) {
            problems.push({ table: table.name, path: f.key, why: (err as Error).message.split('\n')[0]! });
          }
        }
      }
      if (staging !== null) for (const local of locals.keys()) await rm(local, { force: true });
    }
  } finally {
    if (staging !== null) await rm(staging, { recursive: true, force: true });
  }
  return { files: out, problems };
}

async function footers(connection: DuckDBConnection, table: CrawlTable, locals: Map<string, LakeDataFile>): Promise<CatalogFile[]> {
  const list = [...locals.keys()].map(quoteString).join(', ');
  const rows = (await connection.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${list}])`)).getRowObjectsJson();
  const stats = (
    await connection.runAndReadAll(
      `SELECT file_name, path_in_schema AS col, min(stats_min_value) AS lo, max(stats_max_value) AS hi, sum(stats_null_count)::BIGINT AS nulls, ` +
        `min(TRY_CAST(stats_min_value AS TIMESTAMPTZ)) AS tmin, max(TRY_CAST(stats_max_value AS TIMESTAMPTZ)) AS tmax ` +
        `FROM parquet_metadata([${list}]) WHERE NOT contains(path_in_schema, ',') GROUP BY ALL`,
    )
  ).getRowObjectsJson();
  const byFile = new Map<string, ColumnStatistics[]>();
  const eventTime = new Map<string, { min: number | null; max: number | null }>();
  const scalar = new Set(table.columns.filter((c) => !/[[(]/.test(c.type) && c.type !== 'JSON').map((c) => c.name));
  for (const s of stats) {
    const file = String(s.file_name);
    const col = String(s.col);
    if (col === table.eventTimeColumn) {
      const ms = (v: unknown) => (typeof v === 'string' ? Date.parse(v.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')) : NaN);
      const min = ms(s.tmin);
      const max = ms(s.tmax);
      eventTime.set(file, { min: Number.isFinite(min) ? min : null, max: Number.isFinite(max) ? max : null });
    }
    if (!scalar.has(col)) continue;
    let list = byFile.get(file);
    if (list === undefined) byFile.set(file, (list = []));
    list.push({ column: col, min: typeof s.lo === 'string' ? s.lo : null, max: typeof s.hi === 'string' ? s.hi : null, nullCount: s.nulls === null || s.nulls === undefined ? null : Number(s.nulls) });
  }
  // Rows that repeat a lineage of their own file (a replay that landed in the same file as the output it replaces):
  // with none, and no lineage range shared with another file, a query can read the file without the replay rule.
  const hasLineage = table.columns.some((c) => c.name === '_source_offset');
  if (hasLineage) {
    const duplicates = (
      await connection.runAndReadAll(
        `SELECT _f AS f, (count(*) FILTER (WHERE _source_offset IS NOT NULL) - count(DISTINCT (_source_topic, _source_partition, _source_offset)) FILTER (WHERE _source_offset IS NOT NULL))::BIGINT AS d ` +
          `FROM read_parquet([${list}], filename = '_f', union_by_name = true) GROUP BY 1`,
      )
    ).getRowObjectsJson();
    for (const d of duplicates) {
      const file = String(d.f);
      let list = byFile.get(file);
      if (list === undefined) byFile.set(file, (list = []));
      list.push({ column: DUPLICATE_LINEAGE_STAT, min: null, max: null, nullCount: Number(d.d) });
    }
  }
  return rows.map((r) => {
    const local = String(r.file_name);
    const f = locals.get(local)!;
    const range = eventTime.get(local);
    return {
      path: f.key,
      partition: f.dir,
      size: f.size,
      rows: Number(r.num_rows),
      eventTimeMin: range?.min ?? null,
      eventTimeMax: range?.max ?? null,
      columnStats: byFile.get(local) ?? [],
      committedAt: f.mtime,
    };
  });
}
