// Catalog codes: CatalogError for every backend (SQLite, PostgreSQL), so callers branch on the code whatever the store is.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const CatalogErrorCode = {
  /** A new schema is not a compatible evolution of the current one (a type changed, a column removed, a new column not nullable). */
  INCOMPATIBLE_SCHEMA: 'OXBOW_CATALOG_INCOMPATIBLE_SCHEMA',
  /** The namespace has no table of that name. */
  TABLE_NOT_FOUND: 'OXBOW_CATALOG_TABLE_NOT_FOUND',
  /** A table of that name exists with another location. */
  TABLE_EXISTS_DIFFERENT: 'OXBOW_CATALOG_TABLE_EXISTS_DIFFERENT',
  /** A namespace or table name (or a PostgreSQL schema name) breaks the naming rules. */
  BAD_NAME: 'OXBOW_CATALOG_BAD_NAME',
  /** The database could not be reached or failed on its side (connection refused, lost, busy, disk I/O); retryable. */
  UNAVAILABLE: 'OXBOW_CATALOG_UNAVAILABLE',
  /** A migration step failed; its transaction was rolled back, so the catalog stays at the version before it. */
  MIGRATION_FAILED: 'OXBOW_CATALOG_MIGRATION_FAILED',
  /** The catalog has a migration version this code does not know: a newer Oxbow upgraded it. */
  NEWER_SCHEMA: 'OXBOW_CATALOG_NEWER_SCHEMA',
  /** The store was used after close(). */
  CLOSED: 'OXBOW_CATALOG_CLOSED',
} as const;
export type CatalogErrorCode = (typeof CatalogErrorCode)[keyof typeof CatalogErrorCode];

export class CatalogError extends OxbowError {
  declare readonly code: CatalogErrorCode;
  constructor(code: CatalogErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
