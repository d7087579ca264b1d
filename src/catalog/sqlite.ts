// The catalog in a SQLite file (the embedded default), through Node's built-in node:sqlite.
// node:sqlite is synchronous; the store's methods are async, and they take turns on the one connection, so a
// transaction never sees another call's statements between its own.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { CatalogError, CatalogErrorCode } from './errors.ts';
import { SqlCatalog, type SqlCatalogOptions } from './sql-catalog.ts';
import type { SqlDriver, SqlRow, SqlSession, SqlValue } from './sql-driver.ts';

export type SqliteCatalogOptions = SqlCatalogOptions & {
  /** How long a statement waits for another process's write lock before failing with UNAVAILABLE. Default 5 s. */
  readonly busyTimeoutMs?: number;
};

// Primary result codes that mean the database is busy or failing rather than the statement wrong.
const SQLITE_UNAVAILABLE = new Map([
  [5, 'SQLITE_BUSY'],
  [6, 'SQLITE_LOCKED'],
  [7, 'SQLITE_NOMEM'],
  [8, 'SQLITE_READONLY'],
  [10, 'SQLITE_IOERR'],
  [13, 'SQLITE_FULL'],
  [14, 'SQLITE_CANTOPEN'],
  [15, 'SQLITE_PROTOCOL'],
]);

function translate(url: string, e: unknown): unknown {
  const errcode = (e as { errcode?: unknown }).errcode;
  const name = typeof errcode === 'number' ? SQLITE_UNAVAILABLE.get(errcode & 0xff) : undefined;
  if (name === undefined) return e;
  return new CatalogError(CatalogErrorCode.UNAVAILABLE, `catalog ${url} is unavailable: ${(e as Error).message} (${name})`, {
    retryable: true,
    fields: { url, sqliteCode: name },
    cause: e,
  });
}

const STATEMENT_CACHE_SIZE = 200;

/**
 * The queue that calls on one database file take turns in, shared by every store of this process on that file. A
 * second connection's BEGIN IMMEDIATE would block the only thread while the first connection's transaction waits for
 * that thread to finish: across processes busy_timeout resolves it, within one process only taking turns does.
 */
type Turns = { tail: Promise<unknown>; users: number };
const turnsByFile = new Map<string, Turns>();

function turnsFor(file: string): Turns {
  if (file === ':memory:') return { tail: Promise.resolve(), users: 1 };
  let turns = turnsByFile.get(file);
  if (turns === undefined) turnsByFile.set(file, (turns = { tail: Promise.resolve(), users: 0 }));
  turns.users++;
  return turns;
}

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly url: string;
  // SQLite allows 32,766 parameters a statement since 3.32.
  readonly maxParameters = 32_000;
  // BEGIN IMMEDIATE already takes the database's write lock.
  readonly lockRowClause = '';
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #file: string;
  readonly #turns: Turns;
  readonly #session: SqlSession;

  constructor(db: DatabaseSync, url: string, file: string) {
    this.#db = db;
    this.url = url;
    this.#file = file;
    this.#turns = turnsFor(file);
    this.#session = {
      all: async (sql, params = []) => this.#call(() => this.#statement(sql).all(...params) as SqlRow[]),
      run: async (sql, params = []) => this.#call(() => Number(this.#statement(sql).run(...(params as SqlValue[])).changes)),
    };
  }

  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#inTurn(async () => {
      this.#call(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#session);
        this.#call(() => this.#db.exec('COMMIT'));
        return result;
      } catch (e) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  migrationTransaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#inTurn(() => fn(this.#session));
  }

  async close(): Promise<void> {
    await this.#inTurn(async () => {
      this.#statements.clear();
      this.#db.close();
      if (--this.#turns.users === 0 && turnsByFile.get(this.#file) === this.#turns) turnsByFile.delete(this.#file);
    });
  }

  /** Runs fn after every call before it has finished. */
  #inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#turns.tail.then(fn);
    this.#turns.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw translate(this.url, e);
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      // IN lists make statements of many lengths; keep the cache from growing without bound.
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

export class SqliteCatalog extends SqlCatalog {
  /** Opens (creating if missing) the catalog file at `file`, or an in-memory catalog for `:memory:`. Call migrate() next. */
  static async open(file: string, options: SqliteCatalogOptions = {}): Promise<SqliteCatalog> {
    const memory = file === ':memory:';
    const absolute = memory ? file : path.resolve(file);
    const url = memory ? 'sqlite::memory:' : `sqlite://${absolute}`;
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(absolute);
    } catch (e) {
      throw translate(url, e);
    }
    try {
      // WAL lets readers in other processes go on while one writes; NORMAL sync is durable across process crashes in WAL.
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      if (!memory) db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA foreign_keys = ON');
    } catch (e) {
      db.close();
      throw translate(url, e);
    }
    return new SqliteCatalog(new SqliteDriver(db, url, memory ? absolute : realpathSync(absolute)), options);
  }
}
