// The catalog's own tables, as an ordered list of versioned migrations, and the runner that applies the missing ones.
// A step never changes once released: a change to the model is a new step with the next version number.
import { assert } from '../errors.ts';
import { CatalogError, CatalogErrorCode } from './errors.ts';
import type { SqlDialect, SqlDriver } from './sql-driver.ts';

export type MigrationStep = {
  readonly version: number;
  readonly description: string;
  /** Statements run in order, in one transaction; per dialect where the SQL differs. */
  readonly statements: readonly string[] | Readonly<Record<SqlDialect, readonly string[]>>;
};

/** Records which steps a catalog has had; created before anything else, outside the numbered steps. */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS oxbow_catalog_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

// Times are epoch milliseconds (BIGINT) in both dialects, and JSON is kept as text, so both read back the same way.
function modelV1(d: SqlDialect): string[] {
  const id = d === 'sqlite' ? 'id INTEGER PRIMARY KEY' : 'id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY';
  const int = d === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE catalog_namespaces (
      name TEXT PRIMARY KEY,
      created_at ${int} NOT NULL
    )`,
    `CREATE TABLE catalog_tables (
      ${id},
      namespace TEXT NOT NULL REFERENCES catalog_namespaces (name),
      name TEXT NOT NULL,
      location TEXT NOT NULL,
      file_format TEXT NOT NULL,
      partition_keys_json TEXT NOT NULL,
      event_time_column TEXT,
      owner TEXT,
      tags_json TEXT NOT NULL,
      schema_version ${int} NOT NULL,
      created_at ${int} NOT NULL,
      updated_at ${int} NOT NULL,
      UNIQUE (namespace, name)
    )`,
    `CREATE TABLE catalog_schema_versions (
      table_id ${int} NOT NULL REFERENCES catalog_tables (id) ON DELETE CASCADE,
      version ${int} NOT NULL,
      columns_json TEXT NOT NULL,
      created_at ${int} NOT NULL,
      PRIMARY KEY (table_id, version)
    )`,
    `CREATE TABLE catalog_partitions (
      table_id ${int} NOT NULL REFERENCES catalog_tables (id) ON DELETE CASCADE,
      location TEXT NOT NULL,
      values_json TEXT NOT NULL,
      file_count ${int} NOT NULL,
      row_count ${int} NOT NULL,
      byte_count ${int} NOT NULL,
      event_time_min ${int},
      event_time_max ${int},
      PRIMARY KEY (table_id, location)
    )`,
    `CREATE TABLE catalog_files (
      table_id ${int} NOT NULL REFERENCES catalog_tables (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      partition_location TEXT NOT NULL,
      size_bytes ${int} NOT NULL,
      row_count ${int} NOT NULL,
      event_time_min ${int},
      event_time_max ${int},
      column_stats_json TEXT NOT NULL,
      committed_at ${int} NOT NULL,
      PRIMARY KEY (table_id, path)
    )`,
    // listFiles prunes by event-time overlap and by partition without visiting every file of a large table.
    'CREATE INDEX catalog_files_by_event_time ON catalog_files (table_id, event_time_min, event_time_max)',
    'CREATE INDEX catalog_files_by_partition ON catalog_files (table_id, partition_location)',
  ];
}

export const MIGRATIONS: readonly MigrationStep[] = [
  { version: 1, description: 'namespaces, tables, schema versions, partitions and files', statements: { sqlite: modelV1('sqlite'), postgres: modelV1('postgres') } },
  {
    version: 2,
    description: "a table's files version, counted up by every change to its files",
    statements: ['ALTER TABLE catalog_tables ADD COLUMN files_version BIGINT NOT NULL DEFAULT 0'],
  },
];

function statementsOf(step: MigrationStep, dialect: SqlDialect): readonly string[] {
  return Array.isArray(step.statements) ? step.statements : (step.statements as Readonly<Record<SqlDialect, readonly string[]>>)[dialect];
}

/**
 * Applies the steps the catalog lacks, lowest version first, each in its own transaction under the migration lock, so
 * running it twice, or from two processes at once, applies each step once. Refuses a catalog with a version it does
 * not know (NEWER_SCHEMA): this code would misread a model a newer Oxbow changed.
 */
export async function runMigrations(driver: SqlDriver, steps: readonly MigrationStep[], now: () => number): Promise<void> {
  for (let i = 1; i < steps.length; i++) assert(steps[i]!.version > steps[i - 1]!.version, 'migration versions ascend');
  const known = new Set(steps.map((s) => s.version));
  for (;;) {
    const finished = await driver.migrationTransaction(async (session) => {
      await session.run(MIGRATIONS_TABLE);
      const applied = (await session.all('SELECT version FROM oxbow_catalog_migrations')).map((r) => Number(r.version));
      const unknown = applied.filter((v) => !known.has(v)).sort((a, b) => a - b);
      if (unknown.length > 0) {
        const newest = Math.max(0, ...known);
        throw new CatalogError(
          CatalogErrorCode.NEWER_SCHEMA,
          `catalog ${driver.url} has schema version ${unknown.join(', ')}, which this Oxbow does not know (it knows up to ${newest}): a newer Oxbow upgraded it; refusing to run`,
          { fields: { url: driver.url, versions: unknown, knownVersion: newest } },
        );
      }
      const done = new Set(applied);
      const next = steps.find((s) => !done.has(s.version));
      if (next === undefined) return true;
      try {
        for (const sql of statementsOf(next, driver.dialect)) await session.run(sql);
        await session.run('INSERT INTO oxbow_catalog_migrations (version, description, applied_at) VALUES (?, ?, ?)', [next.version, next.description, now()]);
      } catch (e) {
        if (e instanceof CatalogError) throw e;
        throw new CatalogError(
          CatalogErrorCode.MIGRATION_FAILED,
          `catalog ${driver.url}: migration ${next.version} (${next.description}) failed and was rolled back: ${(e as Error).message}`,
          { fields: { url: driver.url, version: next.version }, cause: e },
        );
      }
      return false;
    });
    if (finished) return;
  }
}
