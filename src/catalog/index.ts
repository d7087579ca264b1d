// Public face of the catalog: the CatalogStore interface, its SQLite and PostgreSQL backends, and CatalogError.
export { CatalogError, CatalogErrorCode } from './errors.ts';
export { MIGRATIONS, type MigrationStep } from './migrations.ts';
export { openCatalog } from './open.ts';
export { DEFAULT_SCHEMA, PostgresCatalog, type PostgresCatalogOptions } from './postgres.ts';
export { SqlCatalog, type SqlCatalogOptions } from './sql-catalog.ts';
export { SqliteCatalog, type SqliteCatalogOptions } from './sqlite.ts';
export type {
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
