// Public face of SQL over the lake: the engine, its errors, the HTTP endpoint, and the PostgreSQL wire server with the
// engine as its executor.
export { engineFromConfig, filesNeedingDedupe, LakeEngine, viewSql, type LakeEngineOptions, type QueryColumn, type QueryResult } from './engine.ts';
export { fromDuckDb, QueryError, QueryErrorCode, SQLSTATE } from './errors.ts';
export { lakeExecutor } from './executor.ts';
export { SqlHttpServer, type SqlHttpServerOptions } from './http.ts';
export { PgWireServer, type PgWireServerOptions } from './pgwire/index.ts';
