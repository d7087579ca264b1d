// Public face of the PostgreSQL wire-protocol server.
export { PgWireServer, type PgWireServerOptions } from './server.ts';
export { PgWireError, PgWireErrorCode } from './errors.ts';
export { SqlError, SqlErrorCode, SqlState, sqlErrorCodeFor, type SqlColumn, type SqlExecutor, type SqlResult } from './types.ts';
export { pgTypeFor, PgOid, type PgType } from './pg-types.ts';
export { splitStatements } from './sql-text.ts';
