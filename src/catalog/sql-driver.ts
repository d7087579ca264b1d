// The seam between the catalog's SQL and a database: the few methods each backend (SQLite, PostgreSQL) provides.

/** A statement parameter; `?` marks parameters in every dialect (the PostgreSQL driver numbers them). */
export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;
export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlSession {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** The backend without credentials, for messages and CatalogStore.url. */
  readonly url: string;
  /** Most parameters one statement may carry (SQLite 32,766; PostgreSQL 65,535), with room to spare. */
  readonly maxParameters: number;
  /** Appended to the SELECT of a table row a transaction is about to change, so writers of one table take turns. */
  readonly lockRowClause: string;
  /** Runs fn in one read-write transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Like transaction, holding the lock that makes concurrent migrations of one catalog take turns. */
  migrationTransaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Runs reads outside a transaction. */
  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
