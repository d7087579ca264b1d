// SQL over the lake: DuckDB in-process, reading exactly the files the catalog lists for each table a query names,
// pruned by the query's predicates on the event-time column and on field partitions.
//
// A query is checked before it runs: DuckDB parses it (json_serialize_sql, which only accepts a SELECT), so anything
// but one read query (COPY, ATTACH, INSTALL, SET, CREATE, several statements) is refused; table functions other than
// a few generators are refused; and the instance itself cannot touch files outside the lake (external access off,
// allowed directories set, configuration locked).
import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CatalogError, CatalogErrorCode, DUPLICATE_LINEAGE_STAT, type CatalogColumn, type CatalogStore, type CatalogTable, type FileFilter } from '../catalog/index.ts';
import type { OxbowConfig } from '../config/index.ts';
import { currentRowsSql, quoteIdentifier, quoteString } from '../sink/index.ts';
import { LocalObjectStore, type ObjectStore } from '../storage/index.ts';
import { fromDuckDb, QueryError, QueryErrorCode } from './errors.ts';

export type LakeEngineOptions = {
  catalog: CatalogStore;
  store: ObjectStore;
  /** The catalog namespace whose tables are queried by bare name. */
  namespace: string;
  threads?: number;
  memoryLimit?: string;
  timeoutMs?: number;
  maxRows?: number;
  /** Local directory where objects of a remote store are staged before DuckDB reads them. */
  cacheDir: string;
  /** Bytes the staged objects may take; the least recently used go first. */
  cacheBytes?: number;
};

export type QueryColumn = { name: string; type: string };

export type QueryResult = {
  columns: QueryColumn[];
  /** Rows as DuckDB's JSON conversion gives them: numbers, strings (BIGINT, DECIMAL, timestamps as text), booleans, null, lists, objects. */
  rows: unknown[][];
  /** Per table read: how many files the catalog has and how many the query read after pruning. */
  tables: { name: string; filesTotal: number; filesRead: number }[];
  elapsedMs: number;
  /** Where the time went: checking the query, asking the catalog, creating the views, running the query. */
  phasesMs: { check: number; catalog: number; views: number; run: number };
};

/** Table functions a read query may use: generators that touch no file. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

type TableRef = { name: string; schema: string; node: Record<string, unknown> };

type Analysis = { ast: Record<string, unknown>; tables: TableRef[]; qualified: boolean };

const DEFAULTS = { threads: 2, memoryLimit: '1GB', timeoutMs: 60_000, maxRows: 100_000, cacheBytes: 2 * 1024 ** 3 };

/** The engine of a lake's configuration (`query` and `catalog.namespace` settings); `cacheDir` overrides `query.cacheDir`. */
export function engineFromConfig(config: Pick<OxbowConfig, 'query' | 'catalog'>, catalog: CatalogStore, store: ObjectStore, cacheDir = config.query.cacheDir): Promise<LakeEngine> {
  const q = config.query;
  return LakeEngine.create({
    catalog,
    store,
    namespace: config.catalog.namespace,
    threads: q.threads,
    memoryLimit: q.memoryLimit,
    timeoutMs: q.timeoutMs,
    maxRows: q.maxRows,
    cacheDir: path.resolve(cacheDir),
    cacheBytes: q.cacheBytes,
  });
}

export class LakeEngine {
  readonly #o: Required<LakeEngineOptions>;
  readonly #instance: DuckDBInstance;
  readonly #cache: Map<string, { local: string; size: number; usedAt: number }> = new Map();
  #cacheSize = 0;
  readonly #answers = new Map<string, { version: number; value: unknown }>();
  /** The instance-wide views of whole tables: what each reads (files and schema versions), and when it is in place. */
  readonly #shared = new Map<string, { key: string; ready: Promise<void> }>();

  private constructor(options: Required<LakeEngineOptions>, instance: DuckDBInstance) {
    this.#o = options;
    this.#instance = instance;
  }

  static async create(input: LakeEngineOptions): Promise<LakeEngine> {
    const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as Required<LakeEngineOptions>;
    await mkdir(o.cacheDir, { recursive: true });
    const readable = [o.store instanceof LocalObjectStore ? o.store.root : null, o.cacheDir].filter((d): d is string => d !== null).map((d) => `${path.resolve(d)}/`);
    const instance = await DuckDBInstance.create(':memory:', { threads: String(o.threads), memory_limit: o.memoryLimit });
    const setup = await instance.connect();
    try {
      // GLOBAL: every query runs on a connection of its own, and timestamps without a zone must mean UTC in all of them.
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
      // Parquet footers are read once and kept: a view binds its files when it is created and the query reads them
      // again, and the next query over the same files needs them too.
      await setup.run('SET GLOBAL enable_object_cache = true');
      await setup.run(`SET allowed_directories = [${readable.map(quoteString).join(', ')}]`);
      await setup.run('SET enable_external_access = false');
      await setup.run('SET autoinstall_known_extensions = false');
      await setup.run('SET autoload_known_extensions = false');
      await setup.run('SET lock_configuration = true');
    } finally {
      setup.closeSync();
    }
    return new LakeEngine(o, instance);
  }

  /** Runs one read query with positional parameters ($1, $2, …) given as text or null. */
  async query(sql: string, params: readonly (string | null)[] = [], signal?: AbortSignal): Promise<QueryResult> {
    const started = performance.now();
    const connection = await this.#instance.connect();
    const timer = setTimeout(() => connection.interrupt(), this.#o.timeoutMs);
    const onAbort = () => connection.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const analysis = await this.#analyze(connection, sql);
      const phasesMs = { check: performance.now() - started, catalog: 0, views: 0, run: 0 };
      const tables: QueryResult['tables'] = [];
      const seen = new Map<string, CatalogTable>();
      for (const ref of analysis.tables) {
        if (seen.has(ref.name)) continue;
        // A name the catalog cannot hold (a file path, say) names no table either.
        const table = await this.#o.catalog.getTable(this.#o.namespace, ref.name).catch((err: unknown) => {
          if (err instanceof CatalogError && err.code === CatalogErrorCode.BAD_NAME) return null;
          throw err;
        });
        if (table === null) {
          const known = (await this.#o.catalog.listTables(this.#o.namespace)).map((t) => t.name);
          throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `table "${ref.name}" does not exist${known.length === 0 ? '; the catalog has no tables yet' : `; tables: ${known.join(', ')}`}`, { fields: { table: ref.name } });
        }
        seen.set(ref.name, table);
      }
      // Pruning applies to a table named once, in the FROM of the top-level SELECT.
      const counts = new Map<string, number>();
      for (const ref of analysis.tables) counts.set(ref.name, (counts.get(ref.name) ?? 0) + 1);
      const top = analysis.ast as { type?: string; from_table?: Record<string, unknown>; where_clause?: unknown };
      for (const [name, table] of seen) {
        const prunable = counts.get(name) === 1 && top.type === 'SELECT_NODE' && top.from_table?.type === 'BASE_TABLE' && top.from_table.table_name === name;
        const filter = prunable ? fileFilter(top.where_clause, table, String(top.from_table?.alias ?? '')) : {};
        let mark = performance.now();
        const pruned = filter.eventTime !== undefined || filter.partitionValues !== undefined;
        const id = `${table.namespace}.${table.name}`;
        const [partitions, files, versions] = await Promise.all([
          // How many files the table has is only worth asking when the query reads fewer.
          pruned ? this.#remember(`partitions|${id}`, table.filesVersion, () => this.#o.catalog.listPartitions(table.namespace, table.name)) : Promise.resolve(null),
          this.#remember(`files|${id}|${JSON.stringify(filter)}`, table.filesVersion, () => this.#o.catalog.listFiles(table.namespace, table.name, filter)),
          this.#remember(`schema|${id}`, table.schemaVersion, () => this.#o.catalog.schemaVersions(table.namespace, table.name)),
        ]);
        const locals = await this.#stage(files.map((f) => ({ key: f.path, size: f.size })));
        phasesMs.catalog += performance.now() - mark;
        mark = performance.now();
        const view = () => {
          const local = new Map(files.map((f, i) => [f, locals[i]!]));
          const dedupe = new Set(filesNeedingDedupe(files));
          return viewSql(
            files.filter((f) => !dedupe.has(f)).map((f) => local.get(f)!),
            files.filter((f) => dedupe.has(f)).map((f) => local.get(f)!),
            versions.at(-1)?.columns ?? [],
            versions.length > 1,
          );
        };
        if (pruned) await connection.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdentifier(name)} AS ${view()}`);
        else await this.#sharedView(connection, name, `${table.filesVersion}|${table.schemaVersion}|${this.#o.namespace}.${table.name}`, view);
        phasesMs.views += performance.now() - mark;
        tables.push({ name, filesTotal: partitions === null ? files.length : partitions.reduce((n, p) => n + p.fileCount, 0), filesRead: files.length });
      }
      const runStarted = performance.now();
      const reader = await this.#run(connection, sql, analysis, params);
      if (reader.currentRowCount > this.#o.maxRows) {
        throw new QueryError(QueryErrorCode.TOO_MANY_ROWS, `the result has more than ${this.#o.maxRows} rows (query.maxRows); add a LIMIT or an aggregate`, { fields: { maxRows: this.#o.maxRows } });
      }
      const types = reader.columnTypes();
      const columns = reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() }));
      const rows = reader.getRowsJson() as unknown[][];
      phasesMs.run = performance.now() - runStarted;
      return { columns, rows, tables, elapsedMs: performance.now() - started, phasesMs };
    } catch (err) {
      if (err instanceof QueryError) throw err;
      const e = fromDuckDb(err);
      if (e.code === QueryErrorCode.TIMEOUT) {
        throw new QueryError(QueryErrorCode.TIMEOUT, signal?.aborted ? 'the query was cancelled' : `the query ran longer than ${this.#o.timeoutMs} ms (query.timeoutMs) and was stopped`, { cause: err });
      }
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      connection.closeSync();
    }
  }

  /**
   * What the catalog said for `key` while `version` (a table's files or schema version) holds: the same question asked
   * again between two changes to the table is answered from memory. A few hundred answers are kept, the oldest go first.
   */
  async #remember<T>(key: string, version: number, ask: () => Promise<T>): Promise<T> {
    const known = this.#answers.get(key);
    if (known !== undefined && known.version === version) return known.value as T;
    const value = await ask();
    this.#answers.delete(key);
    this.#answers.set(key, { version, value });
    if (this.#answers.size > 256) this.#answers.delete(this.#answers.keys().next().value!);
    return value;
  }

  /** Parses with DuckDB and checks the statement; returns its tree and the tables it names. */
  async #analyze(connection: DuckDBConnection, sql: string): Promise<Analysis> {
    if (sql.trim() === '') throw new QueryError(QueryErrorCode.SYNTAX, 'the query is empty');
    // The text goes in as a literal: json_serialize_sql only takes a constant.
    const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${quoteString(sql)}) AS j`);
    const tree = JSON.parse(String(reader.getRowObjectsJson()[0]?.j ?? '{}')) as { error?: boolean; error_type?: string; error_message?: string; statements?: { node: Record<string, unknown> }[] };
    if (tree.error === true) {
      const message = tree.error_message ?? 'the query cannot be parsed';
      if (/Only SELECT statements/i.test(message)) {
        throw new QueryError(QueryErrorCode.NOT_ALLOWED, `only read queries (SELECT, WITH … SELECT, VALUES) run here; ${firstWord(sql)} is not one`, { fields: { statement: firstWord(sql) } });
      }
      throw new QueryError(QueryErrorCode.SYNTAX, message.replace(/^Parser Error: /, 'syntax error: '));
    }
    const statements = tree.statements ?? [];
    if (statements.length !== 1) throw new QueryError(QueryErrorCode.NOT_ALLOWED, `one statement per query; this has ${statements.length}`);
    const ast = statements[0]!.node;
    const ctes = new Set<string>();
    const tables: TableRef[] = [];
    let qualified = false;
    walk(ast, (node) => {
      const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map;
      if (Array.isArray(map)) for (const entry of map) ctes.add(entry.key.toLowerCase());
      if (node.type === 'TABLE_FUNCTION') {
        const fn = String((node.function as { function_name?: string } | undefined)?.function_name ?? '?');
        if (!ALLOWED_TABLE_FUNCTIONS.has(fn.toLowerCase())) {
          throw new QueryError(QueryErrorCode.NOT_ALLOWED, `table function ${fn}() is not allowed; query the lake's tables by name`, { fields: { function: fn } });
        }
      }
      if (node.type === 'BASE_TABLE') tables.push({ name: String(node.table_name), schema: String(node.schema_name ?? ''), node });
    });
    const lakeTables: TableRef[] = [];
    for (const t of tables) {
      if (t.schema === '' && ctes.has(t.name.toLowerCase())) continue;
      const catalogName = String(t.node.catalog_name ?? '');
      if (t.schema !== '' && t.schema !== this.#o.namespace) {
        throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `schema "${t.schema}" does not exist; tables are in "${this.#o.namespace}" (or write the bare name)`, { fields: { schema: t.schema } });
      }
      if (catalogName !== '') throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `database "${catalogName}" does not exist; write ${this.#o.namespace}.${t.name} or ${t.name}`);
      if (t.schema !== '') qualified = true;
      lakeTables.push(t);
    }
    return { ast, tables: lakeTables, qualified };
  }

  /**
   * Runs the checked statement and reads at most one row more than `query.maxRows` (which tells a result that is too
   * large without reading all of it). Without parameters, the statement runs as DuckDB's tree of it with a LIMIT of
   * that many rows added, in one step; a prepared statement (needed for parameters) costs DuckDB a second look at every
   * file of the tables, so it is only used for parameters and for what the tree cannot bound (its own LIMIT that is
   * not a constant, a percentage). DuckDB's text of a tree is not always the text it parsed: if the rewritten
   * statement fails, the query's own text runs instead and its answer (or error) is the one given.
   */
  async #run(connection: DuckDBConnection, sql: string, analysis: Analysis, params: readonly (string | null)[]): Promise<DuckDBResultReader> {
    const bound = params.length === 0 ? limitedTree(analysis.ast, this.#o.maxRows + 1) : null;
    if (bound !== null) {
      const statement = bound === analysis.ast && !analysis.qualified ? sql : await this.#text(connection, bound);
      try {
        const reader = await connection.runAndRead(statement);
        await reader.readAll();
        return reader;
      } catch (err) {
        if (statement === sql || fromDuckDb(err).code === QueryErrorCode.TIMEOUT) throw err;
      }
    }
    const statement = analysis.qualified ? await this.#text(connection, analysis.ast) : sql;
    return connection.streamAndReadUntil(statement, this.#o.maxRows + 1, params.length === 0 ? undefined : [...params]);
  }

  /** DuckDB's text of a statement tree, with `namespace.table` written as `table` (the views have bare names). */
  async #text(connection: DuckDBConnection, ast: Record<string, unknown>): Promise<string> {
    walk(ast, (node) => {
      if (node.type === 'BASE_TABLE' && node.schema_name === this.#o.namespace) node.schema_name = '';
      // Positions are 64-bit, and "none" (2^64 − 1) does not survive a JavaScript number; they only serve messages.
      if ('query_location' in node) node.query_location = 0;
    });
    const json = JSON.stringify({ error: false, statements: [{ node: ast, named_param_map: [] }] });
    const reader = await connection.runAndReadAll(`SELECT json_deserialize_sql(${quoteString(json)}::JSON) AS s`);
    return String(reader.getRowObjectsJson()[0]?.s);
  }

  /**
   * Makes the instance-wide view `name` read the table as of `key` (its files and schema versions). A query that
   * reads a whole table uses this view instead of creating one of its own: creating a view makes DuckDB look at every
   * file once more, and the view stays valid until the table's files or schema change. Views are replaced one at a
   * time per name (two replacements at once would conflict in DuckDB's catalog); a query running meanwhile keeps the
   * files it started with.
   */
  async #sharedView(connection: DuckDBConnection, name: string, key: string, sql: () => string): Promise<void> {
    const previous = this.#shared.get(name);
    if (previous !== undefined && previous.key === key) return previous.ready;
    const ready = (async () => {
      await previous?.ready.catch(() => undefined);
      await connection.run(`CREATE OR REPLACE VIEW main.${quoteIdentifier(name)} AS ${sql()}`);
    })();
    const entry = { key, ready };
    this.#shared.set(name, entry);
    // A failed replacement is not remembered: the next query tries again.
    ready.catch(() => {
      if (this.#shared.get(name) === entry) this.#shared.delete(name);
    });
    return ready;
  }

  /** Local paths of the objects: the files themselves for a local store; staged copies (bounded cache) otherwise. */
  async #stage(objects: { key: string; size: number }[]): Promise<string[]> {
    const store = this.#o.store;
    if (store instanceof LocalObjectStore) return objects.map((o) => path.join(store.root, o.key));
    const locals: string[] = [];
    for (const o of objects) {
      let entry = this.#cache.get(o.key);
      if (entry === undefined || !(await stat(entry.local).then(() => true, () => false))) {
        const local = path.join(this.#o.cacheDir, o.key);
        await mkdir(path.dirname(local), { recursive: true });
        await store.download(o.key, local);
        entry = { local, size: o.size, usedAt: 0 };
        this.#cache.set(o.key, entry);
        this.#cacheSize += o.size;
      }
      entry.usedAt = performance.now();
      locals.push(entry.local);
    }
    // Evict the least recently used, never what this query is about to read.
    const needed = new Set(objects.map((o) => o.key));
    for (const [key, entry] of [...this.#cache].sort((a, b) => a[1].usedAt - b[1].usedAt)) {
      if (this.#cacheSize <= this.#o.cacheBytes) break;
      if (needed.has(key)) continue;
      await rm(entry.local, { force: true });
      this.#cache.delete(key);
      this.#cacheSize -= entry.size;
    }
    return locals;
  }

  close(): void {
    this.#instance.closeSync();
  }
}

function firstWord(sql: string): string {
  return (/[A-Za-z]+/.exec(sql.replace(/--.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, ''))?.[0] ?? 'it').toUpperCase();
}

/**
 * The statement's tree with a LIMIT of `rows` at its end, or the tree as it is when its own constant LIMIT is already at
 * most that; null when it cannot be bounded that way (a LIMIT that is not a constant, a percentage).
 */
function limitedTree(ast: Record<string, unknown>, rows: number): Record<string, unknown> | null {
  const modifiers = Array.isArray(ast.modifiers) ? (ast.modifiers as Record<string, unknown>[]) : null;
  if (modifiers === null) return null;
  const limits = modifiers.filter((m) => m.type === 'LIMIT_MODIFIER' || m.type === 'LIMIT_PERCENT_MODIFIER');
  if (limits.length > 0) {
    const limit = limits.length === 1 && limits[0]!.type === 'LIMIT_MODIFIER' ? (limits[0]!.limit as Record<string, unknown> | null) : undefined;
    const value = (limit?.value as { is_null?: boolean; value?: unknown } | undefined);
    const n = limit?.type === 'VALUE_CONSTANT' && value?.is_null === false ? Number(value.value) : NaN;
    return Number.isInteger(n) && n >= 0 && n <= rows ? ast : null;
  }
  const constant = { class: 'CONSTANT', type: 'VALUE_CONSTANT', alias: '', query_location: 0, value: { type: { id: 'BIGINT', type_info: null }, is_null: false, value: rows } };
  return { ...ast, modifiers: [...modifiers, { type: 'LIMIT_MODIFIER', limit: constant, offset: null }] };
}

function walk(node: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  visit(node as Record<string, unknown>);
  for (const value of Object.values(node)) if (typeof value === 'object' && value !== null) walk(value, visit);
}

/**
 * The view a query reads for one table: the rows of `plain` files as they are, the current rows of `dedupe` files (the
 * replay rule of lake-view.ts), with every column of the latest schema. `evolved`: files may differ in their columns,
 * so they are merged by name (which costs DuckDB a look at every file's schema), and columns that older files lack
 * read as null.
 */
export function viewSql(plain: readonly string[], dedupe: readonly string[], columns: readonly CatalogColumn[], evolved: boolean): string {
  const typedNulls = columns.length === 0 ? 'SELECT NULL AS _empty' : `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdentifier(c.name)}`).join(', ')}`;
  if (plain.length === 0 && dedupe.length === 0) return `${typedNulls} WHERE false`;
  const parts: string[] = [];
  if (plain.length > 0) parts.push(`SELECT * FROM read_parquet([${plain.map(quoteString).join(', ')}]${evolved ? ', union_by_name = true' : ''})`);
  if (dedupe.length > 0) parts.push(`SELECT * FROM (${currentRowsSql(dedupe)})`);
  if (evolved || parts.length > 1) parts.push(`(${typedNulls} WHERE false)`);
  const body = parts.join(' UNION ALL BY NAME ');
  const names = columns.map((c) => quoteIdentifier(c.name)).join(', ');
  return columns.length === 0 ? body : `SELECT ${names} FROM (${body})`;
}

const LINEAGE = { topic: '_source_topic', partition: '_source_partition', offset: '_source_offset' };

/**
 * The files the replay rule must look at: those that may share a lineage with another file (their ranges of source
 * topic, partition and offset overlap, by the catalog's statistics) or with themselves (the crawler counted repeated
 * lineage in them), and those whose statistics are missing. Reading the rest as they are skips the window that the
 * rule costs.
 */
export function filesNeedingDedupe<F extends { columnStats: { column: string; min: string | null; max: string | null; nullCount: number | null }[] }>(files: readonly F[]): F[] {
  type Box = { file: F; topic: string; p0: number; p1: number; o0: bigint; o1: bigint };
  const needs = new Set<F>();
  const boxes: Box[] = [];
  for (const file of files) {
    const stat = (column: string) => file.columnStats.find((c) => c.column === column);
    const topic = stat(LINEAGE.topic);
    const partition = stat(LINEAGE.partition);
    const offset = stat(LINEAGE.offset);
    const duplicates = stat(DUPLICATE_LINEAGE_STAT);
    if (duplicates === undefined || duplicates.nullCount !== 0) needs.add(file);
    if (topic?.min == null || topic.max == null || topic.min !== topic.max || partition?.min == null || partition.max == null || offset?.min == null || offset.max == null) {
      // Rows without lineage are all current; a file with none at all has no lineage statistics and needs no rule.
      if (!(topic !== undefined && topic.min === null && topic.max === null && duplicates?.nullCount === 0)) needs.add(file);
      continue;
    }
    boxes.push({ file, topic: topic.min, p0: Number(partition.min), p1: Number(partition.max), o0: BigInt(offset.min), o1: BigInt(offset.max) });
  }
  // Overlapping boxes: sorted by topic and first offset, a box overlaps an earlier one of the same topic whose offsets
  // reach it and whose partitions intersect; files are few enough per query for the inner scan.
  boxes.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.o0 < b.o0 ? -1 : a.o0 > b.o0 ? 1 : 0));
  const open: Box[] = [];
  for (const box of boxes) {
    for (let i = open.length - 1; i >= 0; i--) {
      const other = open[i]!;
      if (other.topic !== box.topic || other.o1 < box.o0) {
        open.splice(i, 1);
        continue;
      }
      if (other.p0 <= box.p1 && box.p0 <= other.p1) {
        needs.add(other.file);
        needs.add(box.file);
      }
    }
    open.push(box);
  }
  return files.filter((f) => needs.has(f));
}

type Node = Record<string, unknown>;

/** The catalog filter implied by a WHERE clause's top-level AND terms on the event-time column and partition keys. */
export function fileFilter(where: unknown, table: CatalogTable, alias: string): FileFilter {
  const filter: FileFilter = {};
  const terms: Node[] = [];
  const collect = (n: unknown) => {
    if (typeof n !== 'object' || n === null) return;
    const node = n as Node;
    if (node.type === 'CONJUNCTION_AND') for (const c of node.children as unknown[]) collect(c);
    else terms.push(node);
  };
  collect(where);
  const column = (n: unknown): string | null => {
    const node = n as Node | null;
    if (node?.type !== 'COLUMN_REF') return null;
    const names = node.column_names as string[];
    if (names.length === 1) return names[0]!;
    if (names.length === 2 && (names[0] === alias || names[0] === table.name)) return names[1]!;
    return null;
  };
  const constant = (n: unknown): string | number | null => {
    let node = n as Node | null;
    if (node?.type === 'OPERATOR_CAST') node = node.child as Node;
    if (node?.type !== 'VALUE_CONSTANT') return null;
    const value = node.value as { is_null?: boolean; value?: unknown };
    if (value.is_null === true) return null;
    return typeof value.value === 'string' || typeof value.value === 'number' ? value.value : null;
  };
  const time = (v: string | number | null): number | null => {
    if (typeof v !== 'string') return null;
    const text = v.trim().replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
    const ms = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(text) || !/T/.test(text) ? text : `${text}Z`);
    return Number.isFinite(ms) ? ms : null;
  };
  const eventTime = table.eventTimeColumn;
  const bound = (kind: 'from' | 'to', ms: number | null) => {
    if (ms === null) return;
    filter.eventTime ??= {};
    if (kind === 'from') filter.eventTime.fromMs = Math.max(filter.eventTime.fromMs ?? -Infinity, ms);
    else filter.eventTime.toMs = Math.min(filter.eventTime.toMs ?? Infinity, ms);
  };
  const FLIP: Record<string, string> = { COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN', COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO', COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN', COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO', COMPARE_EQUAL: 'COMPARE_EQUAL' };
  for (const term of terms) {
    const type = String(term.type);
    if (type === 'COMPARE_BETWEEN') {
      if (eventTime !== null && column(term.input) === eventTime) {
        bound('from', time(constant(term.lower)));
        bound('to', time(constant(term.upper)));
      }
      continue;
    }
    if (type === 'COMPARE_IN') {
      const [first, ...rest] = term.children as unknown[];
      const col = column(first);
      const values = rest.map(constant);
      if (col !== null && table.partitionKeys.includes(col) && values.every((v) => v !== null)) {
        filter.partitionValues = { ...filter.partitionValues, [col]: values.map(String) };
      }
      continue;
    }
    if (!(type in FLIP)) continue;
    let [col, value, op] = [column(term.left), constant(term.right), type];
    if (col === null) [col, value, op] = [column(term.right), constant(term.left), FLIP[type]!];
    if (col === null || value === null) continue;
    if (col === eventTime) {
      const ms = time(value);
      if (op === 'COMPARE_EQUAL') {
        bound('from', ms);
        bound('to', ms);
      } else if (op === 'COMPARE_GREATERTHAN' || op === 'COMPARE_GREATERTHANOREQUALTO') bound('from', ms);
      // Files hold whole milliseconds of their earliest row (rounded down), so "< X" needs rows up to X − 1 ms.
      else bound('to', ms === null ? null : op === 'COMPARE_LESSTHAN' ? ms - 1 : ms);
    } else if (op === 'COMPARE_EQUAL' && table.partitionKeys.includes(col)) {
      filter.partitionValues = { ...filter.partitionValues, [col]: [String(value)] };
    }
  }
  return filter;
}
