// Public face of the catalog: the CatalogStore interface, its SQLite and PostgreSQL backends, the crawler and its
// schedule, the tables of a lake's configuration, DDL for other engines, and CatalogError.
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
export { crawl, partitionValues, DUPLICATE_LINEAGE_STAT, type CrawlProblem, type CrawlResult, type CrawlTable } from './crawler.ts';
export { CrawlScheduler, type CrawlSchedulerOptions } from './scheduler.ts';
export { lakeTables } from './lake-tables.ts';
export { catalogDdl, DDL_DIALECTS, locationRootOf, type DdlDialect } from './ddl.ts';
