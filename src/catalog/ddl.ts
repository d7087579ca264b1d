// DDL that lets Trino (Hive connector), Hive or Spark read the golden zone the catalog describes: an external table per
// catalog table, its partitions registered at the sink's own directories, and a view applying the lake's reading rules.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogColumn, CatalogPartition, CatalogStore, CatalogTable } from './store.ts';

export const DDL_DIALECTS = ['trino', 'hive', 'spark'] as const;
export type DdlDialect = (typeof DDL_DIALECTS)[number];

export type DdlOptions = {
  dialect: DdlDialect;
  /** Where the engine finds the lake root, ending with `/` (see `locationRootOf`). */
  locationRoot: string;
};

/** What the DDL of one table is made from: the table, its current schema's columns and its partitions. */
export type DdlTable = { table: CatalogTable; columns: CatalogColumn[]; partitions: CatalogPartition[] };

/** Partitions per `ALTER TABLE … ADD PARTITION` statement (Hive and Spark take several; Trino's procedure takes one). */
export const PARTITIONS_PER_STATEMENT = 100;

/** Reads what the DDL needs from the catalog and renders it, tables in the order given. */
export async function catalogDdl(catalog: CatalogStore, tables: readonly CatalogTable[], options: DdlOptions): Promise<string> {
  const parts: DdlTable[] = [];
  for (const table of tables) {
    const versions = await catalog.schemaVersions(table.namespace, table.name);
    parts.push({ table, columns: versions.at(-1)?.columns ?? [], partitions: await catalog.listPartitions(table.namespace, table.name) });
  }
  return lakeDdl(parts, options);
}

/**
 * The lake root as those engines name it: a plain path or `file:` URL becomes `file:///absolute/dir/` (not
 * percent-encoded: Hadoop and Trino paths take the characters as they are); an `s3://` URL loses its query (Oxbow's
 * endpoint and region parameters); anything else is kept (e.g. `s3a://bucket/prefix`). Always ends with `/`.
 */
export function locationRootOf(url: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  let root: string;
  if (scheme === undefined) root = `file://${path.resolve(url)}`;
  else if (scheme === 'file') root = `file://${fileURLToPath(url)}`;
  else if (scheme === 's3') root = url.replace(/[?#].*$/, '');
  else root = url;
  return root.endsWith('/') ? root : `${root}/`;
}

/** The whole script: the header on what these engines do not apply by themselves, the schema, then each table. */
export function lakeDdl(tables: readonly DdlTable[], options: DdlOptions): string {
  const d = options.dialect;
  const namespaces = [...new Set(tables.map((t) => t.table.namespace))];
  const lines = [...header(d, options.locationRoot, namespaces), ''];
  for (const ns of namespaces) lines.push(`${d === 'trino' ? 'CREATE SCHEMA' : 'CREATE DATABASE'} IF NOT EXISTS ${ident(ns, d)};`);
  for (const t of tables) lines.push('', tableDdl(t, options));
  return `${lines.join('\n')}\n`;
}

const ENGINE: Record<DdlDialect, string> = { trino: 'Trino (Hive connector)', hive: 'Hive', spark: 'Spark' };

function header(d: DdlDialect, root: string, namespaces: string[]): string[] {
  const position =
    d === 'spark'
      ? ["-- _metadata.file_path and _metadata.row_index (Spark 3.5 or later) give each row's file and position in it, so the", '-- view applies the rule exactly.']
      : [
          `-- ${d === 'trino' ? '"$path"' : 'INPUT__FILE__NAME'} gives each row's file, but ${ENGINE[d]} has no row position within a Parquet file: when`,
          '-- one file holds two processings of one record (a replay soon after the first), the view keeps either one. That',
          '-- part of the rule cannot be expressed here; oxbow sql applies it exactly.',
        ];
  return [
    `-- Oxbow lake tables for ${ENGINE[d]}, written by oxbow catalog ddl from the catalog (namespace ${namespaces.join(', ')}).`,
    `-- Lake root: ${root}`,
    '--',
    `-- ${ENGINE[d]} reads these tables as plain Parquet and does not apply the lake's reading rules (docs/sink.md,`,
    '-- "Reading the lake") by itself:',
    '--  1. Compaction: for a short window a directory holds a compacted file and the files it replaces (a file whose',
    '--     offset range, in its name, another file of the same directory and Kafka partition contains). A plain scan',
    '--     then reads those records twice.',
    '--  2. Replay: a replayed record reaches the lake again with the same lineage (_source_topic, _source_partition,',
    '--     _source_offset). A plain scan returns every processing; the current one is at the highest processed offset:',
    '--     in the file with the highest last offset, the last such row.',
    '-- The view <table>_current after each table applies both rules: query it rather than the table. It orders the',
    "-- rows of a lineage by the last offset in their file's name.",
    ...position,
    "-- The view lists the table's files twice per query (to find superseded ones), so a compaction between the two",
    '-- listings can still show both sets; and it reads every file of the table, whatever the query filters.',
    '--',
    "-- Partitions: the sink's directories (golden/<topic>/YYYY/MM/DD/HH/) are not Hive-style, so each partition the",
    '-- catalog knows is registered with its location; run oxbow catalog crawl and this again for new ones.',
    ...(d === 'trino'
      ? [
          '-- system.register_partition needs hive.allow-register-partition-procedure=true in the catalog properties and',
          '-- this catalog as the session catalog (USE <catalog>.<schema>); it fails for a partition already registered.',
          '-- timestamp(6) columns (instants in UTC) need hive.timestamp-precision=MICROSECONDS; JSON columns are varchar',
          '-- holding JSON text (json_parse reads it).',
        ]
      : ['-- ADD IF NOT EXISTS makes running this again safe.']),
    '-- A null field partition value is the directory __HIVE_DEFAULT_PARTITION__, which these engines read as NULL.',
    '-- Columns are matched to the files by name; columns added in later schema versions read as null from older files.',
    '-- After a schema change, add the new columns (ALTER TABLE ... ADD COLUMNS) or drop and create the table again:',
    '-- dropping an external table leaves its files alone.',
  ];
}

/** One table: CREATE TABLE, its partitions, and the view of its current rows. */
export function tableDdl(t: DdlTable, options: DdlOptions): string {
  const d = options.dialect;
  const { table } = t;
  const name = `${ident(table.namespace, d)}.${ident(table.name, d)}`;
  const keys = table.partitionKeys;
  const keySet = new Set(keys.map((k) => k.toLowerCase()));
  const notes: string[] = [];
  const data: { name: string; type: string }[] = [];
  for (const c of t.columns) {
    if (keySet.has(c.name.toLowerCase())) {
      notes.push(`-- Column ${JSON.stringify(c.name)} (${c.type}) is a partition key: read from the partition (as text), not from the files.`);
      continue;
    }
    const type = mapType(c.type, d);
    if (type === null) notes.push(`-- Column ${JSON.stringify(c.name)} is left out: ${ENGINE[d]} has no type that reads DuckDB's ${c.type}.`);
    else data.push({ name: c.name, type });
  }
  if (!/^[A-Za-z0-9_]+$/.test(table.name)) notes.push(`-- A Hive metastore may refuse the name ${JSON.stringify(table.name)} (it takes letters, digits and _); rename the table in these statements if it does.`);
  const location = options.locationRoot + table.location;
  const stringType = d === 'trino' ? 'varchar' : 'STRING';
  const columnLines = (d === 'hive' ? data : [...data, ...keys.map((k) => ({ name: k, type: stringType }))]).map((c) => `  ${ident(c.name, d)} ${c.type}`);
  const lines = [`-- ${table.namespace}.${table.name}: schema v${table.schemaVersion}, ${t.partitions.length} partition(s)`, ...notes];
  const columnsBlock = columnLines.length === 0 ? '' : ` (\n${columnLines.join(',\n')}\n)`;
  if (d === 'trino') {
    const props = [`  format = 'PARQUET'`, `  external_location = ${literal(location, d)}`];
    if (keys.length > 0) props.push(`  partitioned_by = ARRAY[${keys.map((k) => literal(k, d)).join(', ')}]`);
    lines.push(`CREATE TABLE IF NOT EXISTS ${name}${columnsBlock}\nWITH (\n${props.join(',\n')}\n);`);
  } else if (d === 'hive') {
    const partitioned = keys.length === 0 ? '' : `\nPARTITIONED BY (${keys.map((k) => `${ident(k, d)} STRING`).join(', ')})`;
    lines.push(`CREATE EXTERNAL TABLE IF NOT EXISTS ${name}${columnsBlock}${partitioned}\nSTORED AS PARQUET\nLOCATION ${literal(location, d)};`);
  } else {
    const partitioned = keys.length === 0 ? '' : `\nPARTITIONED BY (${keys.map((k) => ident(k, d)).join(', ')})`;
    lines.push(`CREATE TABLE IF NOT EXISTS ${name}${columnsBlock}\nUSING parquet${partitioned}\nLOCATION ${literal(location, d)};`);
  }
  if (keys.length > 0) lines.push(...partitionStatements(t, options));
  lines.push('', viewDdl(t, [...data.map((c) => c.name), ...keys], d));
  return lines.join('\n');
}

function partitionStatements(t: DdlTable, options: DdlOptions): string[] {
  const d = options.dialect;
  const { table } = t;
  const keys = table.partitionKeys;
  const partitions = [...t.partitions].sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
  // A partition the crawler found without one of the keys has no value for it: Hive's name for null.
  const value = (p: CatalogPartition, k: string) => p.values[k] ?? '__HIVE_DEFAULT_PARTITION__';
  if (d === 'trino') {
    const keyArray = `ARRAY[${keys.map((k) => literal(k, d)).join(', ')}]`;
    return partitions.map(
      (p) =>
        `CALL system.register_partition(${literal(table.namespace, d)}, ${literal(table.name, d)}, ${keyArray}, ` +
        `ARRAY[${keys.map((k) => literal(value(p, k), d)).join(', ')}], ${literal(options.locationRoot + p.location, d)});`,
    );
  }
  const statements: string[] = [];
  for (let i = 0; i < partitions.length; i += PARTITIONS_PER_STATEMENT) {
    const specs = partitions
      .slice(i, i + PARTITIONS_PER_STATEMENT)
      .map((p) => `  PARTITION (${keys.map((k) => `${ident(k, d)}=${literal(value(p, k), d)}`).join(', ')}) LOCATION ${literal(options.locationRoot + p.location, d)}`);
    statements.push(`ALTER TABLE ${ident(table.namespace, d)}.${ident(table.name, d)} ADD IF NOT EXISTS\n${specs.join('\n')};`);
  }
  return statements;
}

const LINEAGE = ['_source_topic', '_source_partition', '_source_offset'];
// Character classes instead of backslashes, so the patterns read the same in every dialect's string literals.
const NAME_TAIL = '[.][a-z]+[.]parquet$';
const KAFKA_PARTITION = `[+]([0-9]+)[+][0-9]+[+][0-9]+${NAME_TAIL}`;
const FIRST_OFFSET = `[+]([0-9]+)[+][0-9]+${NAME_TAIL}`;
const LAST_OFFSET = `[+]([0-9]+)${NAME_TAIL}`;

/**
 * The view of a table's current rows. Rule 1 (compaction): a file is superseded when another file of its directory
 * and Kafka partition has a range containing its own (for equal ranges, the one whose path sorts first stays, as in
 * `visibleFiles`). Rule 2 (replay): per lineage, the row in the file with the highest last offset, then (Spark only)
 * the last row of that file.
 */
function viewDdl(t: DdlTable, columns: string[], d: DdlDialect): string {
  const { table } = t;
  const tableName = `${ident(table.namespace, d)}.${ident(table.name, d)}`;
  const viewName = `${ident(table.namespace, d)}.${ident(`${table.name}_current`, d)}`;
  const file = d === 'trino' ? 't."$path"' : d === 'hive' ? 't.INPUT__FILE__NAME' : 't._metadata.file_path';
  const offsetOf = (expr: string, pattern: string) =>
    d === 'trino' ? `CAST(regexp_extract(${expr}, ${literal(pattern, d)}, 1) AS bigint)` : `CAST(NULLIF(regexp_extract(${expr}, ${literal(pattern, d)}, 1), '') AS BIGINT)`;
  const names = new Set(t.columns.map((c) => c.name));
  const hasLineage = LINEAGE.every((c) => names.has(c));
  const cols = columns.map((c) => ident(c, d));
  // The file (and in Spark the row's position) is taken in the scan itself, before any join, where every engine has it.
  const position = d === 'spark' ? ', t._metadata.row_index AS oxbow_row' : '';
  const lines = [
    'WITH files AS (',
    `  SELECT path, regexp_replace(path, '[^/]*$', '') AS dir, ${offsetOf('path', KAFKA_PARTITION)} AS kafka_partition,`,
    `    ${offsetOf('path', FIRST_OFFSET)} AS first_offset, ${offsetOf('path', LAST_OFFSET)} AS last_offset`,
    `  FROM (SELECT DISTINCT ${file} AS path FROM ${tableName} t) listed`,
    '),',
    'superseded AS (',
    '  SELECT DISTINCT a.path FROM files a JOIN files b',
    '    ON b.dir = a.dir AND b.kafka_partition = a.kafka_partition AND b.path <> a.path',
    '    AND b.first_offset <= a.first_offset AND b.last_offset >= a.last_offset',
    '    AND (b.first_offset < a.first_offset OR b.last_offset > a.last_offset OR b.path < a.path)',
    '),',
    'scanned AS (',
    `  SELECT ${cols.map((c) => `t.${c}`).join(', ')}, ${file} AS oxbow_file${position}`,
    `  FROM ${tableName} t`,
    ')',
  ];
  const visible = ['FROM scanned r LEFT JOIN superseded s ON s.path = r.oxbow_file', 'WHERE s.path IS NULL'];
  if (hasLineage) {
    const order = [`${offsetOf('r.oxbow_file', LAST_OFFSET)} DESC`, ...(d === 'spark' ? ['r.oxbow_row DESC'] : [])].join(', ');
    const [topic, partition, offset] = LINEAGE.map((c) => ident(c, d)) as [string, string, string];
    lines[lines.length - 1] = '),';
    lines.push(
      'ranked AS (',
      `  SELECT ${cols.map((c) => `r.${c}`).join(', ')},`,
      `    row_number() OVER (PARTITION BY r.${topic}, r.${partition}, r.${offset} ORDER BY ${order}) AS oxbow_rank`,
      `  ${visible.join('\n  ')}`,
      ')',
      `SELECT ${cols.join(', ')}`,
      'FROM ranked',
      `WHERE ${offset} IS NULL OR oxbow_rank = 1;`,
    );
  } else {
    lines.push(`SELECT ${cols.map((c) => `r.${c}`).join(', ')}`, `${visible.join('\n')};`);
  }
  const note = hasLineage ? '' : '\n-- The table has no lineage columns, so the view applies only the compaction rule.';
  // Hive has no CREATE OR REPLACE VIEW before 4.0.
  const create = d === 'hive' ? `DROP VIEW IF EXISTS ${viewName};\nCREATE VIEW ${viewName} AS` : `CREATE OR REPLACE VIEW ${viewName} AS`;
  return `-- Current rows of ${table.namespace}.${table.name} (the reading rules above).${note}\n${create}\n${lines.join('\n')}`;
}

// ---- Types: DuckDB type names (as the catalog holds them) to each dialect's.

type DuckType =
  | { kind: 'scalar'; name: string; params: string[] }
  | { kind: 'list'; element: DuckType }
  | { kind: 'struct'; fields: { name: string; type: DuckType }[] }
  | { kind: 'map'; key: DuckType; value: DuckType };

type ScalarNames = { trino: string; hive: string };
const SCALARS: Record<string, ScalarNames> = {};
const scalar = (duck: string[], trino: string, hive: string) => duck.forEach((n) => (SCALARS[n] = { trino, hive }));
scalar(['BIGINT', 'INT8', 'LONG'], 'bigint', 'BIGINT');
scalar(['INTEGER', 'INT', 'INT4', 'INT32', 'SIGNED'], 'integer', 'INT');
scalar(['SMALLINT', 'INT2', 'SHORT'], 'smallint', 'SMALLINT');
scalar(['TINYINT', 'INT1'], 'tinyint', 'TINYINT');
scalar(['DOUBLE', 'FLOAT8'], 'double', 'DOUBLE');
scalar(['FLOAT', 'REAL', 'FLOAT4'], 'real', 'FLOAT');
scalar(['BOOLEAN', 'BOOL', 'LOGICAL'], 'boolean', 'BOOLEAN');
scalar(['VARCHAR', 'TEXT', 'STRING', 'CHAR', 'BPCHAR'], 'varchar', 'STRING');
scalar(['DATE'], 'date', 'DATE');
// The Hive connector takes Hive types only: instants as timestamp(6) in UTC, JSON as its text.
scalar(['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'], 'timestamp(6)', 'TIMESTAMP');
scalar(['TIMESTAMP', 'DATETIME', 'TIMESTAMP_US'], 'timestamp(6)', 'TIMESTAMP');
scalar(['JSON'], 'varchar', 'STRING');
scalar(['BLOB', 'BYTEA', 'BINARY', 'VARBINARY'], 'varbinary', 'BINARY');

/** The dialect's type for a DuckDB type, or null when the dialect has none that reads it (e.g. UHUGEINT, TIME, UUID). */
export function mapType(duckType: string, d: DdlDialect): string | null {
  let parsed: DuckType;
  try {
    parsed = new TypeParser(duckType).parse();
  } catch {
    return null;
  }
  return render(parsed, d);
}

function render(t: DuckType, d: DdlDialect): string | null {
  const trino = d === 'trino';
  switch (t.kind) {
    case 'scalar': {
      if (t.name === 'DECIMAL' || t.name === 'NUMERIC') {
        const [p = '18', s = '3'] = t.params;
        return `${trino ? 'decimal' : 'DECIMAL'}(${p},${s})`;
      }
      const names = SCALARS[t.name];
      if (names === undefined) return null;
      // VARCHAR(n) and the like: the length is not kept (DuckDB does not enforce it either).
      return trino ? names.trino : names.hive;
    }
    case 'list': {
      const element = render(t.element, d);
      return element === null ? null : trino ? `array(${element})` : `ARRAY<${element}>`;
    }
    case 'map': {
      const key = render(t.key, d);
      const value = render(t.value, d);
      return key === null || value === null ? null : trino ? `map(${key}, ${value})` : `MAP<${key}, ${value}>`;
    }
    case 'struct': {
      const fields: string[] = [];
      for (const f of t.fields) {
        const type = render(f.type, d);
        if (type === null) return null;
        fields.push(trino ? `${ident(f.name, d)} ${type}` : `${ident(f.name, d)}:${type}`);
      }
      return trino ? `row(${fields.join(', ')})` : `STRUCT<${fields.join(', ')}>`;
    }
  }
}

/**
 * Reads DuckDB type names: `BIGINT`, `TIMESTAMP WITH TIME ZONE`, `DECIMAL(18,3)`, `T[]` (and `T[3]`),
 * `STRUCT("a b" T, c U)`, `MAP(K, V)`, nested to any depth. Throws on anything else.
 */
class TypeParser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): DuckType {
    const type = this.#type();
    this.#space();
    if (this.#pos !== this.#text.length) this.#fail('end of type');
    return type;
  }

  #type(): DuckType {
    this.#space();
    const words = this.#match(/[A-Za-z_][A-Za-z0-9_]*(?:\s+[A-Za-z_][A-Za-z0-9_]*)*/y);
    if (words === null) this.#fail('a type name');
    const name = words.toUpperCase().replace(/\s+/g, ' ');
    let type: DuckType;
    this.#space();
    if ((name === 'STRUCT' || name === 'ROW') && this.#eat('(')) {
      const fields: { name: string; type: DuckType }[] = [];
      do fields.push({ name: this.#fieldName(), type: this.#type() });
      while (this.#eat(','));
      this.#expect(')');
      type = { kind: 'struct', fields };
    } else if (name === 'MAP' && this.#eat('(')) {
      const key = this.#type();
      this.#expect(',');
      const value = this.#type();
      this.#expect(')');
      type = { kind: 'map', key, value };
    } else if (this.#eat('(')) {
      const params: string[] = [];
      do {
        this.#space();
        const p = this.#match(/[0-9]+/y);
        if (p === null) this.#fail('a number');
        params.push(p);
        this.#space();
      } while (this.#eat(','));
      this.#expect(')');
      type = { kind: 'scalar', name, params };
    } else type = { kind: 'scalar', name, params: [] };
    while (true) {
      this.#space();
      if (this.#match(/\[[0-9]*\]/y) === null) return type;
      type = { kind: 'list', element: type };
    }
  }

  #fieldName(): string {
    this.#space();
    const quoted = this.#match(/"(?:[^"]|"")*"/y);
    if (quoted !== null) return quoted.slice(1, -1).replaceAll('""', '"');
    const bare = this.#match(/[A-Za-z_][A-Za-z0-9_]*/y);
    if (bare === null) this.#fail('a field name');
    return bare;
  }

  #match(re: RegExp): string | null {
    re.lastIndex = this.#pos;
    const m = re.exec(this.#text);
    if (m === null) return null;
    this.#pos = re.lastIndex;
    return m[0];
  }

  #space(): void {
    this.#match(/\s+/y);
  }

  #eat(ch: string): boolean {
    this.#space();
    if (this.#text[this.#pos] !== ch) return false;
    this.#pos += 1;
    return true;
  }

  #expect(ch: string): void {
    if (!this.#eat(ch)) this.#fail(`"${ch}"`);
  }

  #fail(what: string): never {
    throw new Error(`DuckDB type ${JSON.stringify(this.#text)}: expected ${what} at ${this.#pos}`);
  }
}

// ---- Identifiers and literals.

// Reserved in at least one of Trino, Hive 3 and Spark's ANSI mode (quoting a word that is not reserved is harmless).
// year, month, day and hour are not reserved in any of them, so the time partition keys stay bare.
const RESERVED = new Set(
  (
    'all alter and any array as asc authorization between bigint binary boolean both by call case cast char character check ' +
    'collate column commit constraint create cross cube current current_catalog current_date current_path current_role ' +
    'current_schema current_time current_timestamp current_user cursor database date deallocate decimal delete describe ' +
    'desc distinct double drop else end escape except exchange execute exists extended external extract false fetch float ' +
    'following for foreign from full function grant group grouping having if import in inner insert int integer intersect ' +
    'interval into is join json_array json_exists json_object json_query json_table json_value lateral leading left less ' +
    'like listagg local localtime localtimestamp macro map more natural none normalize not null numeric of on only or order ' +
    'out outer over partition percent preceding precision prepare primary procedure range reads recursive reduce references ' +
    'regexp revoke right rlike rollback rollup row rows select set skip smallint some start table tablesample then time ' +
    'timestamp to trailing transform trigger trim true truncate uescape unbounded union unique uniquejoin unknown unnest ' +
    'update user using utc_timestamp values varchar view when where window with'
  ).split(' '),
);

/** An identifier, quoted when it is not a plain one in the dialect or is a reserved word. */
export function ident(name: string, d: DdlDialect): string {
  // Hive's bare identifiers start with a letter or digit, Trino's and Spark's with a letter or _; all lower-case them.
  const plain = d === 'hive' ? /^[A-Za-z][A-Za-z0-9_]*$/ : /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (plain.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return d === 'trino' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``;
}

/** A string literal: Trino doubles quotes; Hive and Spark read backslash escapes, so both are escaped. */
export function literal(text: string, d: DdlDialect): string {
  return d === 'trino' ? `'${text.replaceAll("'", "''")}'` : `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
