// The seam between the PostgreSQL wire server and whatever runs SQL: one executor interface and the error it throws.
import { OxbowError, type OxbowErrorOptions } from '../../errors.ts';

/** A result column: its name and its DuckDB type name (BIGINT, VARCHAR, DECIMAL(18,3), INTEGER[], STRUCT(...), JSON). */
export type SqlColumn = { name: string; type: string };

/**
 * What one statement returned. `rows` holds JS values as @duckdb/node-api's getRowsJson() gives them (BIGINT and
 * DECIMAL as strings, lists as arrays, structs as objects) or plain JS values (bigint, Date, Uint8Array); an executor
 * that streams may hand an async iterable instead of an array, and the server pulls rows only as fast as the client
 * reads them. `command` is the tag for statements without rows (`SET`, `CREATE TABLE`, `INSERT 0 3`).
 */
export type SqlResult = {
  columns: SqlColumn[];
  rows: readonly (readonly unknown[])[] | AsyncIterable<readonly unknown[]>;
  command?: string;
};

export interface SqlExecutor {
  /** Runs one statement with positional parameters ($1, $2...). Throws SqlError for errors the client should see. */
  execute(sql: string, params: readonly (string | null)[], signal?: AbortSignal): Promise<SqlResult>;
  /** Columns a statement would return, without running it (for Describe); null if unknown. */
  describe?(sql: string): Promise<SqlColumn[] | null>;
}

/** The Oxbow codes of SQL errors, one per SQLSTATE class a client may want to branch on. */
export const SqlErrorCode = {
  /** 42601: the statement does not parse. */
  SYNTAX: 'OXBOW_SQL_SYNTAX_ERROR',
  /** 42P01, 42703, 42883 and the rest of class 42: a table, column or function that does not exist, or a bad reference. */
  INVALID_REFERENCE: 'OXBOW_SQL_INVALID_REFERENCE',
  /** 42501: the user may not read or do this. */
  PERMISSION_DENIED: 'OXBOW_SQL_PERMISSION_DENIED',
  /** Class 22: a value is out of range or cannot be converted (a parameter that is not a number, a division by zero). */
  DATA_EXCEPTION: 'OXBOW_SQL_DATA_EXCEPTION',
  /** 0A000: the statement or protocol feature is not supported. */
  NOT_SUPPORTED: 'OXBOW_SQL_NOT_SUPPORTED',
  /** 57014: the query was cancelled (CancelRequest, client gone, server stopping). */
  CANCELED: 'OXBOW_SQL_CANCELED',
  /** Class 53 and 54: a limit was reached (memory, result size, connections). */
  LIMIT_EXCEEDED: 'OXBOW_SQL_LIMIT_EXCEEDED',
  /** Any other SQLSTATE, and XX000 for an unexpected failure of the executor. */
  FAILED: 'OXBOW_SQL_FAILED',
} as const;
export type SqlErrorCode = (typeof SqlErrorCode)[keyof typeof SqlErrorCode];

/** PostgreSQL SQLSTATE codes the server itself uses (from Appendix A of the PostgreSQL documentation). */
export const SqlState = {
  SYNTAX_ERROR: '42601',
  UNDEFINED_TABLE: '42P01',
  INSUFFICIENT_PRIVILEGE: '42501',
  INVALID_PREPARED_STATEMENT_DEFINITION: '42P14',
  DUPLICATE_PREPARED_STATEMENT: '42P05',
  UNDEFINED_PREPARED_STATEMENT: '26000',
  INVALID_CURSOR_NAME: '34000',
  DUPLICATE_CURSOR: '42P03',
  INVALID_PARAMETER_VALUE: '22023',
  INVALID_BINARY_REPRESENTATION: '22P03',
  CHARACTER_NOT_IN_REPERTOIRE: '22021',
  PROTOCOL_VIOLATION: '08P01',
  FEATURE_NOT_SUPPORTED: '0A000',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  PROGRAM_LIMIT_EXCEEDED: '54000',
  TOO_MANY_CONNECTIONS: '53300',
  INTERNAL_ERROR: 'XX000',
} as const;

export type SqlErrorOptions = OxbowErrorOptions & { detail?: string; hint?: string };

/** An error the client sees as an ErrorResponse: `sqlState` goes on the wire, `code` is Oxbow's stable name for it. */
export class SqlError extends OxbowError {
  declare readonly code: SqlErrorCode;
  readonly sqlState: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(sqlState: string, message: string, options: SqlErrorOptions = {}) {
    if (!/^[0-9A-Z]{5}$/.test(sqlState)) throw new Error(`invariant violated: SQLSTATE must be 5 characters of 0-9A-Z, got ${JSON.stringify(sqlState)}`);
    super(sqlErrorCodeFor(sqlState), message, options);
    this.sqlState = sqlState;
    this.detail = options.detail;
    this.hint = options.hint;
  }
}

/** Maps a SQLSTATE to the Oxbow code of its class. */
export function sqlErrorCodeFor(sqlState: string): SqlErrorCode {
  if (sqlState === '42601') return SqlErrorCode.SYNTAX;
  if (sqlState === '42501') return SqlErrorCode.PERMISSION_DENIED;
  if (sqlState === '57014') return SqlErrorCode.CANCELED;
  const cls = sqlState.slice(0, 2);
  if (cls === '42') return SqlErrorCode.INVALID_REFERENCE;
  if (cls === '22') return SqlErrorCode.DATA_EXCEPTION;
  if (cls === '0A') return SqlErrorCode.NOT_SUPPORTED;
  if (cls === '53' || cls === '54') return SqlErrorCode.LIMIT_EXCEEDED;
  return SqlErrorCode.FAILED;
}
