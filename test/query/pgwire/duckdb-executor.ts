// A real SqlExecutor for the tests: in-memory DuckDB, one connection per statement, rows streamed chunk by chunk,
// DuckDB errors mapped to SQLSTATEs (Parser → 42601, Catalog → 42P01, Interrupt → 57014, others XX000).
import { DuckDBInstance, StatementType, type DuckDBResult, type DuckDBType } from '@duckdb/node-api';
import { SqlError, type SqlColumn, type SqlExecutor, type SqlResult } from '../../../src/query/pgwire/index.ts';

export class DuckDbExecutor implements SqlExecutor {
  readonly instance: DuckDBInstance;
  /** Connections open right now (a statement running or a result being read). */
  open = 0;
  /** Rows handed to the server so far, to see that a slow reader slows the query down. */
  rowsYielded = 0;

  private constructor(instance: DuckDBInstance) {
    this.instance = instance;
  }

  static async create(): Promise<DuckDbExecutor> {
    return new DuckDbExecutor(await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '512MB' }));
  }

  /** Runs setup SQL directly (tables for a test). */
  async setup(sql: string): Promise<void> {
    const conn = await this.instance.connect();
    try {
      await conn.run(sql);
    } finally {
      conn.closeSync();
    }
  }

  async execute(sql: string, params: readonly (string | null)[], signal?: AbortSignal): Promise<SqlResult> {
    const conn = await this.instance.connect();
    this.open++;
    let closed = false;
    const release = () => {
      if (closed) return;
      closed = true;
      this.open--;
      signal?.removeEventListener('abort', interrupt);
      conn.closeSync();
    };
    const interrupt = () => conn.interrupt();
    signal?.addEventListener('abort', interrupt);
    try {
      if (signal?.aborted) throw new SqlError('57014', 'canceling statement due to user request');
      const prepared = await conn.prepare(sql);
      params.forEach((p, i) => (p === null ? prepared.bindNull(i + 1) : prepared.bindVarchar(i + 1, p)));
      const result = await prepared.stream();
      const type = result.statementType;
      if (type === StatementType.INSERT || type === StatementType.UPDATE || type === StatementType.DELETE) {
        const rows = await result.getRowsJson();
        release();
        const n = String(rows[0]?.[0] ?? 0);
        return { columns: [], rows: [], command: type === StatementType.INSERT ? `INSERT 0 ${n}` : `${type === StatementType.UPDATE ? 'UPDATE' : 'DELETE'} ${n}` };
      }
      if (type !== StatementType.SELECT && type !== StatementType.EXPLAIN && type !== StatementType.PRAGMA && type !== StatementType.CALL) {
        await result.getRowsJson();
        release();
        return { columns: [], rows: [], command: commandTag(sql) };
      }
      const columns = result.columnNames().map((name, i) => ({ name, type: typeName(result.columnType(i)) }));
      return { columns, rows: streamRows(result, release, () => this.rowsYielded++) };
    } catch (err) {
      release();
      throw toSqlError(err);
    }
  }

  async describe(sql: string): Promise<SqlColumn[] | null> {
    const conn = await this.instance.connect();
    try {
      const prepared = await conn.prepare(sql);
      if (prepared.statementType !== StatementType.SELECT) return [];
      const columns: SqlColumn[] = [];
      try {
        for (let i = 0; i < prepared.columnCount; i++) columns.push({ name: prepared.columnName(i), type: typeName(prepared.columnType(i)) });
      } catch {
        return null; // DuckDB cannot type the columns before the parameters are bound (a parameter in a table function)
      }
      return columns;
    } catch (err) {
      throw toSqlError(err);
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** Rows one DuckDB chunk at a time; returning early (client gone, portal closed) closes the connection. */
function streamRows(result: DuckDBResult, release: () => void, counted: () => void): AsyncIterable<readonly unknown[]> {
  return {
    [Symbol.asyncIterator]() {
      const chunks = result.yieldRowsJson();
      let buffer: unknown[][] = [];
      let i = 0;
      return {
        async next(): Promise<IteratorResult<readonly unknown[]>> {
          try {
            while (i >= buffer.length) {
              const chunk = await chunks.next();
              if (chunk.done) {
                release();
                return { done: true, value: undefined };
              }
              buffer = chunk.value as unknown[][];
              i = 0;
            }
            counted();
            return { done: false, value: buffer[i++]! };
          } catch (err) {
            release();
            throw toSqlError(err);
          }
        },
        async return(): Promise<IteratorResult<readonly unknown[]>> {
          release();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** DuckDB prints JSON as VARCHAR; the alias says what it is. */
function typeName(type: DuckDBType): string {
  return (type as { alias?: string }).alias ?? type.toString();
}

function commandTag(sql: string): string {
  const words = sql.trim().split(/\s+/).slice(0, 2).map((w) => w.toUpperCase());
  if (words[0] === 'CREATE' || words[0] === 'DROP' || words[0] === 'ALTER') return words.join(' ');
  return words[0] ?? '';
}

export function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const kind = /^([A-Za-z ]+) Error:/.exec(message)?.[1]?.toLowerCase() ?? '';
  const sqlState = kind === 'parser' ? '42601' : kind === 'catalog' ? '42P01' : kind === 'interrupt' ? '57014' : 'XX000';
  return new SqlError(sqlState, message, { cause: err });
}
