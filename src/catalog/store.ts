// The catalog: what the lake holds, as tables, schema versions, partitions and files. One interface, two backends
// (SQLite, the embedded default, and PostgreSQL for a lake shared by several machines); see docs/catalog.md.

/** A column of a table's schema, as the query engine types it (DuckDB type names). */
export type CatalogColumn = { name: string; type: string; nullable: boolean };

export type CatalogTable = {
  namespace: string;
  name: string;
  /** Where the table's files live, relative to the lake root, ending with `/` (e.g. `golden/orders.processed/`). */
  location: string;
  /** `parquet`. */
  format: string;
  /** Names of the partition columns, outermost first (e.g. `["year", "month", "day", "hour"]` or `["country", ...]`). */
  partitionKeys: string[];
  /** The event-time column, if the table has one; the engine prunes files by their range of it. */
  eventTimeColumn: string | null;
  owner: string | null;
  /** Free-form labels, e.g. `{ classification: "pii" }`. */
  tags: Record<string, string>;
  /** The current schema version (1 for the first). */
  schemaVersion: number;
  /** Counts up with every change to the table's files (added, replaced, removed): a file list read at one value is current while it holds. */
  filesVersion: number;
  createdAt: Date;
  updatedAt: Date;
};

export type TableInput = Omit<CatalogTable, 'schemaVersion' | 'createdAt' | 'updatedAt' | 'filesVersion'>;

export type SchemaVersion = { version: number; columns: CatalogColumn[]; createdAt: Date };

/** Per-column statistics of one file: min and max as text in the column's type (DuckDB casts), null count. */
export type ColumnStatistics = { column: string; min: string | null; max: string | null; nullCount: number | null };

export type CatalogFile = {
  /** Object key, relative to the lake root. */
  path: string;
  /** The partition directory the file is in (a key prefix ending with `/`). */
  partition: string;
  size: number;
  rows: number;
  /** Event-time range of the file's rows, epoch ms; null when the table has no event-time column or the file no rows. */
  eventTimeMin: number | null;
  eventTimeMax: number | null;
  columnStats: ColumnStatistics[];
  committedAt: Date;
};

export type CatalogPartition = {
  /** The partition directory, e.g. `golden/orders.processed/2026/11/22/05/`. */
  location: string;
  /** Partition column values, e.g. `{ year: "2026", month: "11", day: "22", hour: "05" }`. */
  values: Record<string, string>;
  fileCount: number;
  rows: number;
  bytes: number;
  eventTimeMin: number | null;
  eventTimeMax: number | null;
};

/** Which files a query needs: all, or those of some partitions and/or overlapping an event-time range. */
export type FileFilter = {
  /** Only files whose partition values match every given key (value lists are alternatives). */
  partitionValues?: Record<string, readonly string[]>;
  /** Only files whose event-time range overlaps [fromMs, toMs] (inclusive; either end may be left out). */
  eventTime?: { fromMs?: number; toMs?: number };
};

export interface CatalogStore {
  /** Describes the backend without credentials, e.g. `sqlite:///var/lake/catalog.db` or `postgres://host:5432/db`. */
  readonly url: string;
  /** Creates or upgrades the catalog's own tables (versioned migrations); run once before anything else. */
  migrate(): Promise<void>;

  createNamespace(name: string): Promise<void>;
  listNamespaces(): Promise<string[]>;

  /**
   * Creates the table with its first schema version, or updates its other attributes when it exists. Throws
   * CatalogError TABLE_EXISTS_DIFFERENT when an existing table has another location.
   */
  upsertTable(table: TableInput, columns: CatalogColumn[]): Promise<CatalogTable>;
  getTable(namespace: string, name: string): Promise<CatalogTable | null>;
  listTables(namespace?: string): Promise<CatalogTable[]>;
  dropTable(namespace: string, name: string): Promise<void>;

  /**
   * Records a new schema version when `columns` differ from the current one and are compatible (only new nullable
   * columns added); returns the current version. Throws CatalogError INCOMPATIBLE_SCHEMA naming the column and why.
   */
  evolveSchema(namespace: string, name: string, columns: CatalogColumn[]): Promise<SchemaVersion>;
  schemaVersions(namespace: string, name: string): Promise<SchemaVersion[]>;

  /** Registers files (replacing any with the same path) and keeps their partitions' totals, in one transaction. */
  addFiles(namespace: string, name: string, files: CatalogFile[], partitionValues: Record<string, Record<string, string>>): Promise<void>;
  /** Unregisters files by path (unknown paths are ignored), updating or removing their partitions, in one transaction. */
  removeFiles(namespace: string, name: string, paths: string[]): Promise<void>;
  listFiles(namespace: string, name: string, filter?: FileFilter): Promise<CatalogFile[]>;
  /** Every registered path of a table (for the crawler's diff). */
  listPaths(namespace: string, name: string): Promise<Set<string>>;
  listPartitions(namespace: string, name: string): Promise<CatalogPartition[]>;

  close(): Promise<void>;
}
