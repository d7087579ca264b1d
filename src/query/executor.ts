// The lake's SQL engine as the executor of the PostgreSQL wire server: results as they are, errors with their SQLSTATE.
import type { LakeEngine } from './engine.ts';
import { QueryError } from './errors.ts';
import { SqlError, type SqlExecutor, type SqlResult } from './pgwire/types.ts';

/**
 * BI tools and drivers send a few statements before their first query (`SET extra_float_digits = 3`,
 * `SET application_name = ...`, `SHOW TRANSACTION ISOLATION LEVEL`); they are answered here, harmlessly, instead of
 * being refused as writes.
 */
const SESSION_SET = /^\s*set\s+(session\s+)?[\w.]+\s*(=|to)\s*[^;]*;?\s*$/i;
const SHOW = /^\s*show\s+([\w. ]+?)\s*;?\s*$/i;
const SHOWN: Record<string, string> = {
  'transaction isolation level': 'read committed',
  server_version: '15.0',
  client_encoding: 'UTF8',
  timezone: 'UTC',
  standard_conforming_strings: 'on',
};

export function lakeExecutor(engine: LakeEngine): SqlExecutor {
  return {
    async execute(sql: string, params: readonly (string | null)[], signal?: AbortSignal): Promise<SqlResult> {
      if (SESSION_SET.test(sql)) return { columns: [], rows: [], command: 'SET' };
      const show = SHOW.exec(sql)?.[1]?.toLowerCase();
      if (show !== undefined && show in SHOWN) return { columns: [{ name: show.replaceAll(' ', '_'), type: 'VARCHAR' }], rows: [[SHOWN[show]!]] };
      try {
        const result = await engine.query(sql, params, signal);
        return { columns: result.columns, rows: result.rows };
      } catch (err) {
        if (err instanceof QueryError) throw new SqlError(err.sqlState, err.message, { cause: err });
        throw err;
      }
    },
  };
}
