// Query codes: QueryError for every query the engine refuses or fails, with the SQLSTATE a PostgreSQL client expects.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const QueryErrorCode = {
  /** The SQL does not parse. */
  SYNTAX: 'OXBOW_QUERY_SYNTAX',
  /** The statement is not a read query (COPY, ATTACH, INSTALL, SET, CREATE, …), or there is more than one. */
  NOT_ALLOWED: 'OXBOW_QUERY_NOT_ALLOWED',
  /** The query names a table the catalog does not have. */
  UNKNOWN_TABLE: 'OXBOW_QUERY_UNKNOWN_TABLE',
  /** The query ran longer than query.timeoutMs. */
  TIMEOUT: 'OXBOW_QUERY_TIMEOUT',
  /** The result has more rows than query.maxRows. */
  TOO_MANY_ROWS: 'OXBOW_QUERY_TOO_MANY_ROWS',
  /** DuckDB failed to run the query (a type error, a missing column, a file that cannot be read). */
  FAILED: 'OXBOW_QUERY_FAILED',
  /** The HTTP SQL endpoint could not listen on its address (the port is in use, or not allowed). */
  LISTEN_FAILED: 'OXBOW_QUERY_LISTEN_FAILED',
} as const;
export type QueryErrorCode = (typeof QueryErrorCode)[keyof typeof QueryErrorCode];

/** The SQLSTATE of each code, as PostgreSQL clients classify errors. */
export const SQLSTATE: Record<QueryErrorCode, string> = {
  OXBOW_QUERY_SYNTAX: '42601',
  OXBOW_QUERY_NOT_ALLOWED: '42501',
  OXBOW_QUERY_UNKNOWN_TABLE: '42P01',
  OXBOW_QUERY_TIMEOUT: '57014',
  OXBOW_QUERY_TOO_MANY_ROWS: '54000',
  OXBOW_QUERY_FAILED: 'XX000',
  OXBOW_QUERY_LISTEN_FAILED: '08006',
};

export class QueryError extends OxbowError {
  declare readonly code: QueryErrorCode;
  /** The SQLSTATE for PostgreSQL clients; DuckDB's own error class refines FAILED (e.g. 42703 for a missing column). */
  readonly sqlState: string;
  constructor(code: QueryErrorCode, message: string, options?: OxbowErrorOptions & { sqlState?: string }) {
    super(code, message, options);
    this.sqlState = options?.sqlState ?? SQLSTATE[code];
  }
}

/** A DuckDB error as a QueryError, with a SQLSTATE from DuckDB's error class. */
export function fromDuckDb(err: unknown): QueryError {
  const message = err instanceof Error ? err.message : String(err);
  const raw = /^([A-Za-z ]+) Error:/.exec(message)?.[1] ?? '';
  // DuckDB names its error classes in title case, except a few (INTERRUPT).
  const kind = raw.length > 0 ? raw[0]!.toUpperCase() + raw.slice(1).toLowerCase() : '';
  if (kind === 'Parser') return new QueryError(QueryErrorCode.SYNTAX, message, { cause: err });
  if (kind === 'Catalog' && /Table with name/.test(message)) return new QueryError(QueryErrorCode.UNKNOWN_TABLE, message, { cause: err });
  if (kind === 'Interrupt') return new QueryError(QueryErrorCode.TIMEOUT, message, { cause: err });
  if (kind === 'Permission') return new QueryError(QueryErrorCode.NOT_ALLOWED, message, { cause: err });
  const sqlState = kind === 'Binder' ? (/column/i.test(message) ? '42703' : '42804') : kind === 'Conversion' ? '22018' : kind === 'Out of range' ? '22003' : kind === 'Divide by zero' || /division by zero/i.test(message) ? '22012' : undefined;
  return new QueryError(QueryErrorCode.FAILED, message, { cause: err, ...(sqlState === undefined ? {} : { sqlState }) });
}
