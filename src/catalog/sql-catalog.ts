// The CatalogStore over SQL, shared by both backends: the same statements run on SQLite and PostgreSQL through SqlDriver.
// Invariants: a partition row exists exactly while it has files, and its totals are the sums over those files; both are
// restored in the same transaction as every change of files.
import { assert } from '../errors.ts';
import { CatalogError, CatalogErrorCode } from './errors.ts';
import { MIGRATIONS, runMigrations, type MigrationStep } from './migrations.ts';
import { checkColumns, evolveColumns } from './schema-evolution.ts';
import type { SqlDriver, SqlRow, SqlSession, SqlValue } from './sql-driver.ts';
import type {
  CatalogColumn,
  CatalogFile,
  CatalogPartition,
  CatalogStore,
  CatalogTable,
  ColumnStatistics,
  FileFilter,
  SchemaVersion,
  TableInput,
} from './store.ts';

export type SqlCatalogOptions = {
  /** The clock for created/updated times, epoch ms. Default Date.now. */
  readonly now?: () => number;
};

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function checkName(kind: 'namespace' | 'table', name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CatalogError(
      CatalogErrorCode.BAD_NAME,
      `${kind} name ${JSON.stringify(name)} is not allowed: use 1 to 128 letters, digits, "_", "." or "-"`,
      { fields: { kind, name } },
    );
  }
}

const TABLE_COLUMNS =
  'id, namespace, name, location, file_format, partition_keys_json, event_time_column, owner, tags_json, schema_version, created_at, updated_at, files_version';
const FILE_COLUMNS = 'path, partition_location, size_bytes, row_count, event_time_min, event_time_max, column_stats_json, committed_at';

function text(row: SqlRow, column: string): string {
  const v = row[column];
  assert(typeof v === 'string', `catalog column ${column} is text`);
  return v;
}
function textOrNull(row: SqlRow, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : text(row, column);
}
// PostgreSQL returns BIGINT and sums as strings, SQLite as numbers; both hold whole numbers well inside 2^53.
function int(row: SqlRow, column: string): number {
  const n = Number(row[column]);
  assert(row[column] !== null && Number.isSafeInteger(n), `catalog column ${column} is a whole number`);
  return n;
}
function intOrNull(row: SqlRow, column: string): number | null {
  return row[column] === null || row[column] === undefined ? null : int(row, column);
}

function toTable(row: SqlRow): CatalogTable {
  return {
    namespace: text(row, 'namespace'),
    name: text(row, 'name'),
    location: text(row, 'location'),
    format: text(row, 'file_format'),
    partitionKeys: JSON.parse(text(row, 'partition_keys_json')) as string[],
    eventTimeColumn: textOrNull(row, 'event_time_column'),
    owner: textOrNull(row, 'owner'),
    tags: JSON.parse(text(row, 'tags_json')) as Record<string, string>,
    schemaVersion: int(row, 'schema_version'),
    createdAt: new Date(int(row, 'created_at')),
    updatedAt: new Date(int(row, 'updated_at')),
    filesVersion: int(row, 'files_version'),
  };
}

function toFile(row: SqlRow): CatalogFile {
  return {
    path: text(row, 'path'),
    partition: text(row, 'partition_location'),
    size: int(row, 'size_bytes'),
    rows: int(row, 'row_count'),
    eventTimeMin: intOrNull(row, 'event_time_min'),
    eventTimeMax: intOrNull(row, 'event_time_max'),
    columnStats: JSON.parse(text(row, 'column_stats_json')) as ColumnStatistics[],
    committedAt: new Date(int(row, 'committed_at')),
  };
}

function toPartition(row: SqlRow): CatalogPartition {
  return {
    location: text(row, 'location'),
    values: JSON.parse(text(row, 'values_json')) as Record<string, string>,
    fileCount: int(row, 'file_count'),
    rows: int(row, 'row_count'),
    bytes: int(row, 'byte_count'),
    eventTimeMin: intOrNull(row, 'event_time_min'),
    eventTimeMax: intOrNull(row, 'event_time_max'),
  };
}

function toSchemaVersion(row: SqlRow): SchemaVersion {
  return { version: int(row, 'version'), columns: JSON.parse(text(row, 'columns_json')) as CatalogColumn[], createdAt: new Date(int(row, 'created_at')) };
}

function byText<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  assert(size >= 1, 'chunk size is at least 1');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function placeholders(count: number): string {
  return new Array<string>(count).fill('?').join(', ');
}

function checkFile(table: string, f: CatalogFile): void {
  const where = `table ${table}, file ${JSON.stringify(f.path)}`;
  assert(typeof f.path === 'string' && f.path !== '', `${where}: a file has a path`);
  assert(typeof f.partition === 'string' && f.partition !== '', `${where}: a file has a partition`);
  assert(Number.isSafeInteger(f.size) && f.size >= 0, `${where}: size is a whole number of bytes`);
  assert(Number.isSafeInteger(f.rows) && f.rows >= 0, `${where}: rows is a whole number`);
  assert((f.eventTimeMin === null) === (f.eventTimeMax === null), `${where}: event-time min and max are both set or both null`);
  if (f.eventTimeMin !== null && f.eventTimeMax !== null) {
    assert(Number.isSafeInteger(f.eventTimeMin) && Number.isSafeInteger(f.eventTimeMax), `${where}: event times are epoch ms`);
    assert(f.eventTimeMin <= f.eventTimeMax, `${where}: event-time min is not after max`);
  }
  assert(f.committedAt instanceof Date && !Number.isNaN(f.committedAt.getTime()), `${where}: committedAt is a valid Date`);
}

function matchesPartition(values: Record<string, string>, wanted: Record<string, readonly string[]>): boolean {
  return Object.entries(wanted).every(([key, alternatives]) => Object.hasOwn(values, key) && alternatives.includes(values[key]!));
}

type LockedTable = { id: number; namespace: string; name: string; partitionKeys: string[]; schemaVersion: number };

export class SqlCatalog implements CatalogStore {
  readonly #driver: SqlDriver;
  readonly #now: () => number;
  #closed = false;
  #migrated = false;

  protected constructor(driver: SqlDriver, options: SqlCatalogOptions = {}) {
    this.#driver = driver;
    this.#now = options.now ?? Date.now;
  }

  get url(): string {
    return this.#driver.url;
  }

  /** Applies the missing migrations (MIGRATIONS unless a test passes its own steps). */
  async migrate(steps: readonly MigrationStep[] = MIGRATIONS): Promise<void> {
    this.#checkOpen();
    await runMigrations(this.#driver, steps, this.#now);
    this.#migrated = true;
  }

  async createNamespace(name: string): Promise<void> {
    this.#ready();
    checkName('namespace', name);
    await this.#driver.transaction((s) => this.#ensureNamespace(s, name));
  }

  async listNamespaces(): Promise<string[]> {
    this.#ready();
    const rows = await this.#driver.read((s) => s.all('SELECT name FROM catalog_namespaces'));
    return rows.map((r) => text(r, 'name')).sort(byText((n) => n));
  }

  async upsertTable(table: TableInput, columns: CatalogColumn[]): Promise<CatalogTable> {
    this.#ready();
    checkName('namespace', table.namespace);
    checkName('table', table.name);
    const qualified = `${table.namespace}.${table.name}`;
    checkColumns(qualified, columns);
    assert(typeof table.location === 'string' && table.location !== '', `table ${qualified} has a location`);
    const partitionKeys = JSON.stringify(table.partitionKeys);
    const tags = JSON.stringify(table.tags);
    return this.#driver.transaction(async (s) => {
      await this.#ensureNamespace(s, table.namespace);
      const now = this.#now();
      const inserted = await s.all(
        `INSERT INTO catalog_tables (namespace, name, location, file_format, partition_keys_json, event_time_column, owner, tags_json, schema_version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (namespace, name) DO NOTHING RETURNING id`,
        [table.namespace, table.name, table.location, table.format, partitionKeys, table.eventTimeColumn, table.owner, tags, now, now],
      );
      if (inserted.length === 1) {
        await s.run('INSERT INTO catalog_schema_versions (table_id, version, columns_json, created_at) VALUES (?, 1, ?, ?)', [
          int(inserted[0]!, 'id'),
          JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }))),
          now,
        ]);
      } else {
        // It exists: its schema changes only through evolveSchema; the other attributes follow the input.
        const [row] = await s.all(`SELECT ${TABLE_COLUMNS} FROM catalog_tables WHERE namespace = ? AND name = ?${this.#driver.lockRowClause}`, [table.namespace, table.name]);
        assert(row !== undefined, `table ${qualified} exists after a conflicting insert`);
        const existing = toTable(row);
        if (existing.location !== table.location) {
          throw new CatalogError(
            CatalogErrorCode.TABLE_EXISTS_DIFFERENT,
            `table ${qualified} already exists with location ${JSON.stringify(existing.location)}, not ${JSON.stringify(table.location)}`,
            { fields: { table: qualified, location: existing.location, wantedLocation: table.location } },
          );
        }
        const same =
          existing.format === table.format &&
          JSON.stringify(existing.partitionKeys) === partitionKeys &&
          existing.eventTimeColumn === table.eventTimeColumn &&
          existing.owner === table.owner &&
          JSON.stringify(existing.tags) === tags;
        if (!same) {
          await s.run(
            'UPDATE catalog_tables SET file_format = ?, partition_keys_json = ?, event_time_column = ?, owner = ?, tags_json = ?, updated_at = ? WHERE id = ?',
            [table.format, partitionKeys, table.eventTimeColumn, table.owner, tags, now, int(row, 'id')],
          );
        }
      }
      const [result] = await s.all(`SELECT ${TABLE_COLUMNS} FROM catalog_tables WHERE namespace = ? AND name = ?`, [table.namespace, table.name]);
      assert(result !== undefined, `table ${qualified} exists after upsert`);
      return toTable(result);
    });
  }

  async getTable(namespace: string, name: string): Promise<CatalogTable | null> {
    this.#ready();
    checkName('namespace', namespace);
    checkName('table', name);
    const [row] = await this.#driver.read((s) => s.all(`SELECT ${TABLE_COLUMNS} FROM catalog_tables WHERE namespace = ? AND name = ?`, [namespace, name]));
    return row === undefined ? null : toTable(row);
  }

  async listTables(namespace?: string): Promise<CatalogTable[]> {
    this.#ready();
    if (namespace !== undefined) checkName('namespace', namespace);
    const rows = await this.#driver.read((s) =>
      namespace === undefined
        ? s.all(`SELECT ${TABLE_COLUMNS} FROM catalog_tables`)
        : s.all(`SELECT ${TABLE_COLUMNS} FROM catalog_tables WHERE namespace = ?`, [namespace]),
    );
    return rows.map(toTable).sort(byText((t) => `${t.namespace}\u0000${t.name}`));
  }

  async dropTable(namespace: string, name: string): Promise<void> {
    this.#ready();
    checkName('namespace', namespace);
    checkName('table', name);
    // Schema versions, partitions and files go with it (ON DELETE CASCADE).
    const dropped = await this.#driver.transaction((s) => s.run('DELETE FROM catalog_tables WHERE namespace = ? AND name = ?', [namespace, name]));
    if (dropped === 0) throw notFound(namespace, name);
  }

  async evolveSchema(namespace: string, name: string, columns: CatalogColumn[]): Promise<SchemaVersion> {
    this.#ready();
    return this.#driver.transaction(async (s) => {
      const table = await this.#lockTable(s, namespace, name);
      const [row] = await s.all('SELECT version, columns_json, created_at FROM catalog_schema_versions WHERE table_id = ? AND version = ?', [table.id, table.schemaVersion]);
      assert(row !== undefined, `table ${namespace}.${name} has its current schema version ${table.schemaVersion}`);
      const current = toSchemaVersion(row);
      const change = evolveColumns(`${namespace}.${name}`, current.columns, columns);
      if (change.kind === 'same') return current;
      const now = this.#now();
      const version = table.schemaVersion + 1;
      await s.run('INSERT INTO catalog_schema_versions (table_id, version, columns_json, created_at) VALUES (?, ?, ?, ?)', [table.id, version, JSON.stringify(change.columns), now]);
      await s.run('UPDATE catalog_tables SET schema_version = ?, updated_at = ? WHERE id = ?', [version, now, table.id]);
      return { version, columns: change.columns, createdAt: new Date(now) };
    });
  }

  async schemaVersions(namespace: string, name: string): Promise<SchemaVersion[]> {
    this.#ready();
    const rows = await this.#driver.read(async (s) => {
      const id = await this.#tableId(s, namespace, name);
      return s.all('SELECT version, columns_json, created_at FROM catalog_schema_versions WHERE table_id = ? ORDER BY version', [id]);
    });
    return rows.map(toSchemaVersion);
  }

  async addFiles(namespace: string, name: string, files: CatalogFile[], partitionValues: Record<string, Record<string, string>>): Promise<void> {
    this.#ready();
    checkName('namespace', namespace);
    checkName('table', name);
    // The last of several entries with one path wins, as if they had been added one after another.
    const byPath = new Map<string, CatalogFile>();
    for (const f of files) {
      checkFile(`${namespace}.${name}`, f);
      byPath.delete(f.path);
      byPath.set(f.path, f);
    }
    if (byPath.size === 0) return;
    const unique = [...byPath.values()];
    await this.#driver.transaction(async (s) => {
      const table = await this.#lockTable(s, namespace, name);
      const inChunk = this.#driver.maxParameters - 8;
      const affected = new Set(unique.map((f) => f.partition));
      // Files being replaced may move out of another partition, whose totals then change too.
      for (const paths of chunks([...byPath.keys()], inChunk)) {
        const rows = await s.all(`SELECT DISTINCT partition_location FROM catalog_files WHERE table_id = ? AND path IN (${placeholders(paths.length)})`, [table.id, ...paths]);
        for (const r of rows) affected.add(text(r, 'partition_location'));
      }
      await this.#upsertPartitions(s, table, [...new Set(unique.map((f) => f.partition))], partitionValues);
      const perRow = 9;
      for (const batch of chunks(unique, Math.floor(this.#driver.maxParameters / perRow))) {
        const params: SqlValue[] = [];
        for (const f of batch) {
          params.push(table.id, f.path, f.partition, f.size, f.rows, f.eventTimeMin, f.eventTimeMax, JSON.stringify(f.columnStats), f.committedAt.getTime());
        }
        await s.run(
          `INSERT INTO catalog_files (table_id, ${FILE_COLUMNS}) VALUES ${new Array<string>(batch.length).fill(`(${placeholders(perRow)})`).join(', ')}
           ON CONFLICT (table_id, path) DO UPDATE SET partition_location = excluded.partition_location, size_bytes = excluded.size_bytes,
             row_count = excluded.row_count, event_time_min = excluded.event_time_min, event_time_max = excluded.event_time_max,
             column_stats_json = excluded.column_stats_json, committed_at = excluded.committed_at`,
          params,
        );
      }
      await this.#recomputePartitions(s, table.id, [...affected]);
      await s.run('UPDATE catalog_tables SET files_version = files_version + 1 WHERE id = ?', [table.id]);
    });
  }

  async removeFiles(namespace: string, name: string, paths: string[]): Promise<void> {
    this.#ready();
    checkName('namespace', namespace);
    checkName('table', name);
    const unique = [...new Set(paths)];
    await this.#driver.transaction(async (s) => {
      const table = await this.#lockTable(s, namespace, name);
      const affected = new Set<string>();
      for (const batch of chunks(unique, this.#driver.maxParameters - 8)) {
        const rows = await s.all(`DELETE FROM catalog_files WHERE table_id = ? AND path IN (${placeholders(batch.length)}) RETURNING partition_location`, [table.id, ...batch]);
        for (const r of rows) affected.add(text(r, 'partition_location'));
      }
      await this.#recomputePartitions(s, table.id, [...affected]);
      if (affected.size > 0) await s.run('UPDATE catalog_tables SET files_version = files_version + 1 WHERE id = ?', [table.id]);
    });
  }

  async listFiles(namespace: string, name: string, filter: FileFilter = {}): Promise<CatalogFile[]> {
    this.#ready();
    const rows = await this.#driver.read(async (s) => {
      const id = await this.#tableId(s, namespace, name);
      let where = 'table_id = ?';
      const params: SqlValue[] = [id];
      const from = filter.eventTime?.fromMs;
      const to = filter.eventTime?.toMs;
      if (from !== undefined || to !== undefined) {
        // Overlap of [min, max] with [from, to], ends inclusive; a file with no range cannot be pruned, so it stays.
        const terms: string[] = [];
        if (to !== undefined) terms.push('event_time_min <= ?');
        if (from !== undefined) terms.push('event_time_max >= ?');
        where += ` AND (event_time_min IS NULL OR (${terms.join(' AND ')}))`;
        if (to !== undefined) params.push(to);
        if (from !== undefined) params.push(from);
      }
      if (filter.partitionValues === undefined) return s.all(`SELECT ${FILE_COLUMNS} FROM catalog_files WHERE ${where}`, params);
      const wanted = filter.partitionValues;
      const partitions = (await s.all('SELECT location, values_json FROM catalog_partitions WHERE table_id = ?', [id]))
        .filter((r) => matchesPartition(JSON.parse(text(r, 'values_json')) as Record<string, string>, wanted))
        .map((r) => text(r, 'location'));
      const out: SqlRow[] = [];
      for (const batch of chunks(partitions, this.#driver.maxParameters - params.length - 8)) {
        out.push(...(await s.all(`SELECT ${FILE_COLUMNS} FROM catalog_files WHERE ${where} AND partition_location IN (${placeholders(batch.length)})`, [...params, ...batch])));
      }
      return out;
    });
    return rows.map(toFile).sort(byText((f) => f.path));
  }

  async listPaths(namespace: string, name: string): Promise<Set<string>> {
    this.#ready();
    const rows = await this.#driver.read(async (s) => s.all('SELECT path FROM catalog_files WHERE table_id = ?', [await this.#tableId(s, namespace, name)]));
    return new Set(rows.map((r) => text(r, 'path')));
  }

  async listPartitions(namespace: string, name: string): Promise<CatalogPartition[]> {
    this.#ready();
    const rows = await this.#driver.read(async (s) =>
      s.all('SELECT location, values_json, file_count, row_count, byte_count, event_time_min, event_time_max FROM catalog_partitions WHERE table_id = ?', [
        await this.#tableId(s, namespace, name),
      ]),
    );
    return rows.map(toPartition).sort(byText((p) => p.location));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new CatalogError(CatalogErrorCode.CLOSED, `catalog ${this.url} is closed; open it again to use it`, { fields: { url: this.url } });
  }

  #ready(): void {
    this.#checkOpen();
    // Migrating first is part of the contract: it is also where a catalog from a newer Oxbow is refused.
    assert(this.#migrated, `catalog ${this.url}: call migrate() before using the catalog`);
  }

  async #ensureNamespace(s: SqlSession, name: string): Promise<void> {
    await s.run('INSERT INTO catalog_namespaces (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, this.#now()]);
  }

  async #tableId(s: SqlSession, namespace: string, name: string): Promise<number> {
    checkName('namespace', namespace);
    checkName('table', name);
    const [row] = await s.all('SELECT id FROM catalog_tables WHERE namespace = ? AND name = ?', [namespace, name]);
    if (row === undefined) throw notFound(namespace, name);
    return int(row, 'id');
  }

  /** The table's row, locked until the transaction ends, so writers of one table (files, schema) take turns. */
  async #lockTable(s: SqlSession, namespace: string, name: string): Promise<LockedTable> {
    checkName('namespace', namespace);
    checkName('table', name);
    const [row] = await s.all(`SELECT id, partition_keys_json, schema_version FROM catalog_tables WHERE namespace = ? AND name = ?${this.#driver.lockRowClause}`, [namespace, name]);
    if (row === undefined) throw notFound(namespace, name);
    return { id: int(row, 'id'), namespace, name, partitionKeys: JSON.parse(text(row, 'partition_keys_json')) as string[], schemaVersion: int(row, 'schema_version') };
  }

  /** Creates the partitions new files go to, and takes the values given for existing ones; totals come later. */
  async #upsertPartitions(s: SqlSession, table: LockedTable, locations: string[], partitionValues: Record<string, Record<string, string>>): Promise<void> {
    const given = locations.filter((l) => Object.hasOwn(partitionValues, l));
    const missing = locations.filter((l) => !Object.hasOwn(partitionValues, l));
    const existing = new Set<string>();
    for (const batch of chunks(missing, this.#driver.maxParameters - 8)) {
      const rows = await s.all(`SELECT location FROM catalog_partitions WHERE table_id = ? AND location IN (${placeholders(batch.length)})`, [table.id, ...batch]);
      for (const r of rows) existing.add(text(r, 'location'));
    }
    const rows: [string, string][] = given.map((l) => [l, JSON.stringify(partitionValues[l])]);
    for (const l of missing) {
      if (existing.has(l)) continue;
      // Without its values a partition could never be selected by partitionValues: a caller's mistake.
      assert(table.partitionKeys.length === 0, `table ${table.namespace}.${table.name}: addFiles gives no partition values for the new partition ${JSON.stringify(l)}`);
      rows.push([l, '{}']);
    }
    for (const batch of chunks(rows, Math.floor(this.#driver.maxParameters / 3))) {
      await s.run(
        `INSERT INTO catalog_partitions (table_id, location, values_json, file_count, row_count, byte_count) VALUES ${batch.map(() => '(?, ?, ?, 0, 0, 0)').join(', ')}
         ON CONFLICT (table_id, location) DO UPDATE SET values_json = excluded.values_json`,
        batch.flatMap(([l, v]) => [table.id, l, v]),
      );
    }
  }

  /** Restores the invariant for the given partitions: totals are sums over their files, and an empty one goes. */
  async #recomputePartitions(s: SqlSession, tableId: number, locations: string[]): Promise<void> {
    for (const batch of chunks(locations, this.#driver.maxParameters - 8)) {
      const inList = `(${placeholders(batch.length)})`;
      await s.run(
        `UPDATE catalog_partitions SET (file_count, row_count, byte_count, event_time_min, event_time_max) = (
           SELECT count(*), coalesce(sum(f.row_count), 0), coalesce(sum(f.size_bytes), 0), min(f.event_time_min), max(f.event_time_max)
           FROM catalog_files f WHERE f.table_id = catalog_partitions.table_id AND f.partition_location = catalog_partitions.location)
         WHERE table_id = ? AND location IN ${inList}`,
        [tableId, ...batch],
      );
      await s.run(`DELETE FROM catalog_partitions WHERE table_id = ? AND file_count = 0 AND location IN ${inList}`, [tableId, ...batch]);
    }
  }
}

function notFound(namespace: string, name: string): CatalogError {
  return new CatalogError(CatalogErrorCode.TABLE_NOT_FOUND, `table ${namespace}.${name} does not exist`, { fields: { namespace, table: name } });
}
