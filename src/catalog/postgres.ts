// The catalog in PostgreSQL (for a lake shared by several machines), through a pg.Pool; every table lives in one schema.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { CatalogError, CatalogErrorCode } from './errors.ts';
import { SqlCatalog, type SqlCatalogOptions } from './sql-catalog.ts';
import type { SqlDriver, SqlRow, SqlSession, SqlValue } from './sql-driver.ts';

export type PostgresCatalogOptions = SqlCatalogOptions & {
  /** The PostgreSQL schema holding the catalog's tables; created by migrate() if missing. Default `oxbow_catalog`. */
  readonly schema?: string;
  /** How long to wait for a connection before failing with UNAVAILABLE. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Most connections the pool opens. Default 4. */
  readonly maxConnections?: number;
};

export const DEFAULT_SCHEMA = 'oxbow_catalog';

// Lower case only: search_path and CREATE SCHEMA then name the same schema without quoting rules in between.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// Node's socket errors and SQLSTATE classes that mean the server is out of reach, going away, or overloaded.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '55P03']);

function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('53') || RETRYABLE_SQLSTATES.has(code);
  const message = e instanceof Error ? e.message : '';
  // pg's own errors for a connection that times out or drops carry no code.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

function translate(url: string, e: unknown): unknown {
  if (e instanceof CatalogError || !isUnavailable(e)) return e;
  const detail = e instanceof AggregateError && e.errors.length > 0 ? (e.errors as Error[]).map((x) => x.message).join('; ') : (e as Error).message;
  return new CatalogError(CatalogErrorCode.UNAVAILABLE, `catalog ${url} is unavailable: ${detail}`, {
    retryable: true,
    fields: { url, cause: (e as { code?: unknown }).code ?? null },
    cause: e,
  });
}

/** `?` placeholders, as the shared SQL writes them, become PostgreSQL's `$1`, `$2`, … (no `?` appears inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL without credentials or query parameters (which may hold a password), and with the schema. */
function describe(url: string, schema: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${schema === DEFAULT_SCHEMA ? '' : `?schema=${schema}`}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly url: string;
  // PostgreSQL allows 65,535 parameters a statement.
  readonly maxParameters = 60_000;
  readonly lockRowClause = ' FOR UPDATE';
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #lockKey: string;

  constructor(pool: pg.Pool, url: string, schema: string) {
    this.#pool = pool;
    this.url = url;
    this.#schema = schema;
    // One advisory lock per catalog schema: migrations of different catalogs in one database do not wait for each other.
    this.#lockKey = createHash('sha256').update(`oxbow-catalog-migrations:${schema}`).digest().readBigInt64BE(0).toString();
  }

  async transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      const session = this.#session(client);
      await session.run('BEGIN');
      try {
        const result = await fn(session);
        await session.run('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        throw e;
      }
    } catch (e) {
      if (isUnavailable(e)) broken ??= e as Error;
      throw e;
    } finally {
      // A client whose connection failed is destroyed, not returned to the pool.
      client.release(broken);
    }
  }

  migrationTransaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.transaction(async (session) => {
      await session.all('SELECT pg_advisory_xact_lock(CAST(? AS bigint))', [this.#lockKey]);
      // Under the lock, so two processes creating the schema at once do not collide.
      await session.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.#schema)}`);
      return fn(session);
    });
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return fn(this.#session(this.#pool));
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (e) {
      throw translate(this.url, e);
    }
  }

  #session(target: pg.Pool | pg.PoolClient): SqlSession {
    const query = async (sql: string, params: readonly SqlValue[]) => {
      try {
        return await target.query(numbered(sql), params as SqlValue[]);
      } catch (e) {
        throw translate(this.url, e);
      }
    };
    return {
      all: async (sql, params = []) => (await query(sql, params)).rows as SqlRow[],
      run: async (sql, params = []) => (await query(sql, params)).rowCount ?? 0,
    };
  }
}

export class PostgresCatalog extends SqlCatalog {
  /**
   * Opens a pool to `url` (postgres://user:password@host:port/database) with the catalog in `schema`, and checks that
   * the server answers (UNAVAILABLE when not). Call migrate() next.
   */
  static async open(url: string, options: PostgresCatalogOptions = {}): Promise<PostgresCatalog> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_NAME.test(schema)) {
      throw new CatalogError(
        CatalogErrorCode.BAD_NAME,
        `PostgreSQL schema name ${JSON.stringify(schema)} is not allowed: use 1 to 63 lower-case letters, digits or "_", not starting with a digit`,
        { fields: { kind: 'schema', name: schema } },
      );
    }
    const described = describe(url, schema);
    const pool = new pg.Pool({
      connectionString: url,
      // Every unqualified name in the catalog's SQL resolves in its schema.
      options: `-c search_path=${schema}`,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that drops is discarded by the pool; the next query opens a new one or fails as UNAVAILABLE.
    pool.on('error', () => undefined);
    const driver = new PostgresDriver(pool, described, schema);
    try {
      await driver.read((s) => s.all('SELECT 1'));
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresCatalog(driver, options);
  }
}
