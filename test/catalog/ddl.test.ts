// oxbow catalog ddl: the SQL that lets Trino, Hive and Spark read the golden zone, from a real SQLite catalog.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { catalogDdl, locationRootOf, mapType, PARTITIONS_PER_STATEMENT, type DdlDialect } from '../../src/catalog/ddl.ts';
import { openCatalog, type CatalogColumn, type CatalogFile, type CatalogStore, type TableInput } from '../../src/catalog/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');
const T0 = Date.UTC(2026, 10, 22, 5, 0, 0);

const LINEAGE: CatalogColumn[] = [
  { name: '_source_topic', type: 'VARCHAR', nullable: false },
  { name: '_source_partition', type: 'INTEGER', nullable: false },
  { name: '_source_offset', type: 'BIGINT', nullable: false },
];

/** Every type the sink writes (docs/sink.md, Column types), nested ones included. */
const EVERY_TYPE: CatalogColumn[] = [
  { name: 'id', type: 'BIGINT', nullable: false },
  { name: 'qty', type: 'INTEGER', nullable: true },
  { name: 'amount', type: 'DOUBLE', nullable: true },
  { name: 'paid', type: 'BOOLEAN', nullable: true },
  { name: 'note', type: 'VARCHAR', nullable: true },
  { name: 'delivery', type: 'DATE', nullable: true },
  { name: 'ts', type: 'TIMESTAMP WITH TIME ZONE', nullable: false },
  { name: 'attrs', type: 'JSON', nullable: true },
  { name: 'tags', type: 'VARCHAR[]', nullable: true },
  { name: 'customer', type: 'STRUCT("name" VARCHAR, "address" STRUCT("city" VARCHAR, "zip" VARCHAR), "scores" DOUBLE[])', nullable: true },
  { name: 'lines', type: 'STRUCT("sku" VARCHAR, "qty" BIGINT)[]', nullable: true },
  ...LINEAGE,
];

async function memoryCatalog(t: TestContext): Promise<CatalogStore> {
  const catalog = await openCatalog(':memory:');
  t.after(() => catalog.close());
  return catalog;
}

function tableInput(overrides: Partial<TableInput> = {}): TableInput {
  return {
    namespace: 'lake',
    name: 'orders',
    location: 'golden/orders.processed/',
    format: 'parquet',
    partitionKeys: ['year', 'month', 'day', 'hour'],
    eventTimeColumn: 'ts',
    owner: null,
    tags: {},
    ...overrides,
  };
}

function dataFile(partition: string, n: number): CatalogFile {
  return {
    path: `${partition}orders.processed+0+${n * 100}+${n * 100 + 99}.snappy.parquet`,
    partition,
    size: 1000,
    rows: 100,
    eventTimeMin: T0,
    eventTimeMax: T0 + 1000,
    columnStats: [],
    committedAt: new Date(T0),
  };
}

/** A table with its columns and one file in each of the given partitions (location → values). */
async function addTable(catalog: CatalogStore, input: TableInput, columns: CatalogColumn[], partitions: Record<string, Record<string, string>>): Promise<void> {
  await catalog.createNamespace(input.namespace);
  await catalog.upsertTable(input, columns);
  const locations = Object.keys(partitions);
  await catalog.addFiles(input.namespace, input.name, locations.map((l, i) => dataFile(l, i)), partitions);
}

const TWO_HOURS = {
  'golden/orders.processed/2026/11/22/05/': { year: '2026', month: '11', day: '22', hour: '05' },
  'golden/orders.processed/2026/11/22/06/': { year: '2026', month: '11', day: '22', hour: '06' },
};

async function ordersDdl(t: TestContext, dialect: DdlDialect): Promise<string> {
  const catalog = await memoryCatalog(t);
  await addTable(catalog, tableInput(), EVERY_TYPE, TWO_HOURS);
  const table = (await catalog.getTable('lake', 'orders'))!;
  return catalogDdl(catalog, [table], { dialect, locationRoot: 's3://bucket/lake/' });
}

/** The statements after the header comment. */
function statements(ddl: string): string {
  const start = ddl.search(/^CREATE (SCHEMA|DATABASE)/m);
  assert.ok(start > 0, 'the DDL starts with a comment block');
  return ddl.slice(start);
}

test('Trino: schema, table with every type mapped, two registered partitions and the view, exactly', async (t) => {
  const ddl = await ordersDdl(t, 'trino');
  assert.equal(
    statements(ddl),
    `CREATE SCHEMA IF NOT EXISTS lake;

-- lake.orders: schema v1, 2 partition(s)
CREATE TABLE IF NOT EXISTS lake.orders (
  id bigint,
  qty integer,
  amount double,
  paid boolean,
  note varchar,
  delivery date,
  ts timestamp(6),
  attrs varchar,
  tags array(varchar),
  customer row(name varchar, address row(city varchar, zip varchar), scores array(double)),
  lines array(row(sku varchar, qty bigint)),
  _source_topic varchar,
  _source_partition integer,
  _source_offset bigint,
  year varchar,
  month varchar,
  day varchar,
  hour varchar
)
WITH (
  format = 'PARQUET',
  external_location = 's3://bucket/lake/golden/orders.processed/',
  partitioned_by = ARRAY['year', 'month', 'day', 'hour']
);
CALL system.register_partition('lake', 'orders', ARRAY['year', 'month', 'day', 'hour'], ARRAY['2026', '11', '22', '05'], 's3://bucket/lake/golden/orders.processed/2026/11/22/05/');
CALL system.register_partition('lake', 'orders', ARRAY['year', 'month', 'day', 'hour'], ARRAY['2026', '11', '22', '06'], 's3://bucket/lake/golden/orders.processed/2026/11/22/06/');

-- Current rows of lake.orders (the reading rules above).
CREATE OR REPLACE VIEW lake.orders_current AS
WITH files AS (
  SELECT path, regexp_replace(path, '[^/]*$', '') AS dir, CAST(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[+][0-9]+[.][a-z]+[.]parquet$', 1) AS bigint) AS kafka_partition,
    CAST(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[.][a-z]+[.]parquet$', 1) AS bigint) AS first_offset, CAST(regexp_extract(path, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1) AS bigint) AS last_offset
  FROM (SELECT DISTINCT t."$path" AS path FROM lake.orders t) listed
),
superseded AS (
  SELECT DISTINCT a.path FROM files a JOIN files b
    ON b.dir = a.dir AND b.kafka_partition = a.kafka_partition AND b.path <> a.path
    AND b.first_offset <= a.first_offset AND b.last_offset >= a.last_offset
    AND (b.first_offset < a.first_offset OR b.last_offset > a.last_offset OR b.path < a.path)
),
scanned AS (
  SELECT t.id, t.qty, t.amount, t.paid, t.note, t.delivery, t.ts, t.attrs, t.tags, t.customer, t.lines, t._source_topic, t._source_partition, t._source_offset, t.year, t.month, t.day, t.hour, t."$path" AS oxbow_file
  FROM lake.orders t
),
ranked AS (
  SELECT r.id, r.qty, r.amount, r.paid, r.note, r.delivery, r.ts, r.attrs, r.tags, r.customer, r.lines, r._source_topic, r._source_partition, r._source_offset, r.year, r.month, r.day, r.hour,
    row_number() OVER (PARTITION BY r._source_topic, r._source_partition, r._source_offset ORDER BY CAST(regexp_extract(r.oxbow_file, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1) AS bigint) DESC) AS oxbow_rank
  FROM scanned r LEFT JOIN superseded s ON s.path = r.oxbow_file
  WHERE s.path IS NULL
)
SELECT id, qty, amount, paid, note, delivery, ts, attrs, tags, customer, lines, _source_topic, _source_partition, _source_offset, year, month, day, hour
FROM ranked
WHERE _source_offset IS NULL OR oxbow_rank = 1;
`,
  );
  // The header says what Trino does not do by itself, and what the view cannot express.
  assert.match(ddl, /^-- Oxbow lake tables for Trino \(Hive connector\)/);
  assert.match(ddl, /-- {2}1\. Compaction: /);
  assert.match(ddl, /-- {2}2\. Replay: /);
  assert.match(ddl, /no row position within a Parquet file/);
  assert.match(ddl, /hive\.allow-register-partition-procedure=true/);
});

test('Hive: external table with PARTITIONED BY, one batched ADD PARTITION for two partitions, and the view, exactly', async (t) => {
  const ddl = await ordersDdl(t, 'hive');
  assert.equal(
    statements(ddl),
    `CREATE DATABASE IF NOT EXISTS lake;

-- lake.orders: schema v1, 2 partition(s)
CREATE EXTERNAL TABLE IF NOT EXISTS lake.orders (
  id BIGINT,
  qty INT,
  amount DOUBLE,
  paid BOOLEAN,
  note STRING,
  delivery DATE,
  ts TIMESTAMP,
  attrs STRING,
  tags ARRAY<STRING>,
  customer STRUCT<name:STRING, address:STRUCT<city:STRING, zip:STRING>, scores:ARRAY<DOUBLE>>,
  lines ARRAY<STRUCT<sku:STRING, qty:BIGINT>>,
  \`_source_topic\` STRING,
  \`_source_partition\` INT,
  \`_source_offset\` BIGINT
)
PARTITIONED BY (year STRING, month STRING, day STRING, hour STRING)
STORED AS PARQUET
LOCATION 's3://bucket/lake/golden/orders.processed/';
ALTER TABLE lake.orders ADD IF NOT EXISTS
  PARTITION (year='2026', month='11', day='22', hour='05') LOCATION 's3://bucket/lake/golden/orders.processed/2026/11/22/05/'
  PARTITION (year='2026', month='11', day='22', hour='06') LOCATION 's3://bucket/lake/golden/orders.processed/2026/11/22/06/';

-- Current rows of lake.orders (the reading rules above).
DROP VIEW IF EXISTS lake.orders_current;
CREATE VIEW lake.orders_current AS
WITH files AS (
  SELECT path, regexp_replace(path, '[^/]*$', '') AS dir, CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[+][0-9]+[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS kafka_partition,
    CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS first_offset, CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS last_offset
  FROM (SELECT DISTINCT t.INPUT__FILE__NAME AS path FROM lake.orders t) listed
),
superseded AS (
  SELECT DISTINCT a.path FROM files a JOIN files b
    ON b.dir = a.dir AND b.kafka_partition = a.kafka_partition AND b.path <> a.path
    AND b.first_offset <= a.first_offset AND b.last_offset >= a.last_offset
    AND (b.first_offset < a.first_offset OR b.last_offset > a.last_offset OR b.path < a.path)
),
scanned AS (
  SELECT t.id, t.qty, t.amount, t.paid, t.note, t.delivery, t.ts, t.attrs, t.tags, t.customer, t.lines, t.\`_source_topic\`, t.\`_source_partition\`, t.\`_source_offset\`, t.year, t.month, t.day, t.hour, t.INPUT__FILE__NAME AS oxbow_file
  FROM lake.orders t
),
ranked AS (
  SELECT r.id, r.qty, r.amount, r.paid, r.note, r.delivery, r.ts, r.attrs, r.tags, r.customer, r.lines, r.\`_source_topic\`, r.\`_source_partition\`, r.\`_source_offset\`, r.year, r.month, r.day, r.hour,
    row_number() OVER (PARTITION BY r.\`_source_topic\`, r.\`_source_partition\`, r.\`_source_offset\` ORDER BY CAST(NULLIF(regexp_extract(r.oxbow_file, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1), '') AS BIGINT) DESC) AS oxbow_rank
  FROM scanned r LEFT JOIN superseded s ON s.path = r.oxbow_file
  WHERE s.path IS NULL
)
SELECT id, qty, amount, paid, note, delivery, ts, attrs, tags, customer, lines, \`_source_topic\`, \`_source_partition\`, \`_source_offset\`, year, month, day, hour
FROM ranked
WHERE \`_source_offset\` IS NULL OR oxbow_rank = 1;
`,
  );
  assert.match(ddl, /^-- Oxbow lake tables for Hive,/);
  assert.match(ddl, /INPUT__FILE__NAME gives each row's file, but Hive has no row position/);
});

test('Spark: USING parquet with the partition columns last, batched partitions, and a view ordered by row_index, exactly', async (t) => {
  const ddl = await ordersDdl(t, 'spark');
  assert.equal(
    statements(ddl),
    `CREATE DATABASE IF NOT EXISTS lake;

-- lake.orders: schema v1, 2 partition(s)
CREATE TABLE IF NOT EXISTS lake.orders (
  id BIGINT,
  qty INT,
  amount DOUBLE,
  paid BOOLEAN,
  note STRING,
  delivery DATE,
  ts TIMESTAMP,
  attrs STRING,
  tags ARRAY<STRING>,
  customer STRUCT<name:STRING, address:STRUCT<city:STRING, zip:STRING>, scores:ARRAY<DOUBLE>>,
  lines ARRAY<STRUCT<sku:STRING, qty:BIGINT>>,
  _source_topic STRING,
  _source_partition INT,
  _source_offset BIGINT,
  year STRING,
  month STRING,
  day STRING,
  hour STRING
)
USING parquet
PARTITIONED BY (year, month, day, hour)
LOCATION 's3://bucket/lake/golden/orders.processed/';
ALTER TABLE lake.orders ADD IF NOT EXISTS
  PARTITION (year='2026', month='11', day='22', hour='05') LOCATION 's3://bucket/lake/golden/orders.processed/2026/11/22/05/'
  PARTITION (year='2026', month='11', day='22', hour='06') LOCATION 's3://bucket/lake/golden/orders.processed/2026/11/22/06/';

-- Current rows of lake.orders (the reading rules above).
CREATE OR REPLACE VIEW lake.orders_current AS
WITH files AS (
  SELECT path, regexp_replace(path, '[^/]*$', '') AS dir, CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[+][0-9]+[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS kafka_partition,
    CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[+][0-9]+[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS first_offset, CAST(NULLIF(regexp_extract(path, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1), '') AS BIGINT) AS last_offset
  FROM (SELECT DISTINCT t._metadata.file_path AS path FROM lake.orders t) listed
),
superseded AS (
  SELECT DISTINCT a.path FROM files a JOIN files b
    ON b.dir = a.dir AND b.kafka_partition = a.kafka_partition AND b.path <> a.path
    AND b.first_offset <= a.first_offset AND b.last_offset >= a.last_offset
    AND (b.first_offset < a.first_offset OR b.last_offset > a.last_offset OR b.path < a.path)
),
scanned AS (
  SELECT t.id, t.qty, t.amount, t.paid, t.note, t.delivery, t.ts, t.attrs, t.tags, t.customer, t.lines, t._source_topic, t._source_partition, t._source_offset, t.year, t.month, t.day, t.hour, t._metadata.file_path AS oxbow_file, t._metadata.row_index AS oxbow_row
  FROM lake.orders t
),
ranked AS (
  SELECT r.id, r.qty, r.amount, r.paid, r.note, r.delivery, r.ts, r.attrs, r.tags, r.customer, r.lines, r._source_topic, r._source_partition, r._source_offset, r.year, r.month, r.day, r.hour,
    row_number() OVER (PARTITION BY r._source_topic, r._source_partition, r._source_offset ORDER BY CAST(NULLIF(regexp_extract(r.oxbow_file, '[+]([0-9]+)[.][a-z]+[.]parquet$', 1), '') AS BIGINT) DESC, r.oxbow_row DESC) AS oxbow_rank
  FROM scanned r LEFT JOIN superseded s ON s.path = r.oxbow_file
  WHERE s.path IS NULL
)
SELECT id, qty, amount, paid, note, delivery, ts, attrs, tags, customer, lines, _source_topic, _source_partition, _source_offset, year, month, day, hour
FROM ranked
WHERE _source_offset IS NULL OR oxbow_rank = 1;
`,
  );
  assert.match(ddl, /_metadata\.row_index \(Spark 3\.5 or later\)/);
});

test('field partitions: country=DE/ directories become a STRING partition column ahead of the time keys, not a data column', async (t) => {
  const catalog = await memoryCatalog(t);
  const columns: CatalogColumn[] = [{ name: 'id', type: 'BIGINT', nullable: false }, { name: 'country', type: 'VARCHAR', nullable: true }, ...LINEAGE];
  await addTable(catalog, tableInput({ partitionKeys: ['country', 'year', 'month', 'day', 'hour'] }), columns, {
    'golden/orders.processed/country=DE/2026/11/22/05/': { country: 'DE', year: '2026', month: '11', day: '22', hour: '05' },
    'golden/orders.processed/country=a%2Fb/2026/11/22/05/': { country: 'a/b', year: '2026', month: '11', day: '22', hour: '05' },
    'golden/orders.processed/country=__HIVE_DEFAULT_PARTITION__/2026/11/22/05/': { country: '__HIVE_DEFAULT_PARTITION__', year: '2026', month: '11', day: '22', hour: '05' },
  });
  const table = (await catalog.getTable('lake', 'orders'))!;
  const root = 'file:///var/lake/';
  const hive = await catalogDdl(catalog, [table], { dialect: 'hive', locationRoot: root });
  assert.ok(hive.includes('-- Column "country" (VARCHAR) is a partition key: read from the partition (as text), not from the files.\n'), hive);
  assert.ok(hive.includes('CREATE EXTERNAL TABLE IF NOT EXISTS lake.orders (\n  id BIGINT,\n  `_source_topic` STRING,'), 'country is not a data column');
  assert.ok(hive.includes('PARTITIONED BY (country STRING, year STRING, month STRING, day STRING, hour STRING)'));
  assert.ok(hive.includes("  PARTITION (country='DE', year='2026', month='11', day='22', hour='05') LOCATION 'file:///var/lake/golden/orders.processed/country=DE/2026/11/22/05/'\n"));
  // The value is the decoded one; the location keeps the directory's own escaping.
  assert.ok(hive.includes("  PARTITION (country='a/b', year='2026', month='11', day='22', hour='05') LOCATION 'file:///var/lake/golden/orders.processed/country=a%2Fb/2026/11/22/05/';"));
  assert.ok(hive.includes("PARTITION (country='__HIVE_DEFAULT_PARTITION__', year='2026'"));

  const trino = await catalogDdl(catalog, [table], { dialect: 'trino', locationRoot: root });
  assert.ok(trino.includes('  _source_offset bigint,\n  country varchar,\n  year varchar,\n  month varchar,\n  day varchar,\n  hour varchar\n)'), 'partition columns come last, in key order');
  assert.ok(trino.includes("partitioned_by = ARRAY['country', 'year', 'month', 'day', 'hour']"));
  assert.ok(
    trino.includes(
      "CALL system.register_partition('lake', 'orders', ARRAY['country', 'year', 'month', 'day', 'hour'], ARRAY['DE', '2026', '11', '22', '05'], 'file:///var/lake/golden/orders.processed/country=DE/2026/11/22/05/');",
    ),
  );

  const spark = await catalogDdl(catalog, [table], { dialect: 'spark', locationRoot: root });
  assert.ok(spark.includes('  _source_offset BIGINT,\n  country STRING,\n  year STRING,'));
  assert.ok(spark.includes('PARTITIONED BY (country, year, month, day, hour)'));
  assert.ok(spark.includes('SELECT id, _source_topic, _source_partition, _source_offset, country, year, month, day, hour\nFROM ranked'), 'the view keeps the partition column');
});

test('identifiers and literals that need quoting are quoted in each dialect', async (t) => {
  const catalog = await memoryCatalog(t);
  const columns: CatalogColumn[] = [
    { name: 'order', type: 'BIGINT', nullable: true },
    { name: 'Unit Price', type: 'DOUBLE', nullable: true },
    { name: 'say "hi"', type: 'VARCHAR', nullable: true },
    { name: 'tick`s', type: 'VARCHAR', nullable: true },
    { name: '1st', type: 'VARCHAR', nullable: true },
    { name: 'meta', type: 'STRUCT("my field" VARCHAR, "user" BIGINT, plain BOOLEAN)', nullable: true },
    ...LINEAGE,
  ];
  await addTable(catalog, tableInput({ name: 'orders-v2', location: "golden/it's/", partitionKeys: ['region'] }), columns, {
    "golden/it's/region=x/": { region: "it's a \\ test" },
  });
  const table = (await catalog.getTable('lake', 'orders-v2'))!;
  const root = 's3://bucket/';

  const trino = await catalogDdl(catalog, [table], { dialect: 'trino', locationRoot: root });
  assert.ok(trino.includes('CREATE TABLE IF NOT EXISTS lake."orders-v2" (\n  "order" bigint,\n  "Unit Price" double,\n  "say ""hi""" varchar,\n  "tick`s" varchar,\n  "1st" varchar,\n'));
  assert.ok(trino.includes('  meta row("my field" varchar, "user" bigint, plain boolean),\n'));
  assert.ok(trino.includes("external_location = 's3://bucket/golden/it''s/'"));
  assert.ok(trino.includes("CALL system.register_partition('lake', 'orders-v2', ARRAY['region'], ARRAY['it''s a \\ test'], 's3://bucket/golden/it''s/region=x/');"));
  assert.ok(trino.includes('CREATE OR REPLACE VIEW lake."orders-v2_current" AS'));
  assert.ok(trino.includes('-- A Hive metastore may refuse the name "orders-v2"'));

  for (const dialect of ['hive', 'spark'] as const) {
    const ddl = await catalogDdl(catalog, [table], { dialect, locationRoot: root });
    assert.ok(ddl.includes('lake.`orders-v2` (\n  `order` BIGINT,\n  `Unit Price` DOUBLE,\n  `say "hi"` STRING,\n  `tick``s` STRING,\n  `1st` STRING,\n'), `${dialect}:\n${ddl}`);
    assert.ok(ddl.includes('  meta STRUCT<`my field`:STRING, `user`:BIGINT, plain:BOOLEAN>,\n'), dialect);
    // Hive and Spark read backslash escapes in string literals.
    assert.ok(ddl.includes("LOCATION 's3://bucket/golden/it\\'s/'"), dialect);
    assert.ok(ddl.includes("  PARTITION (region='it\\'s a \\\\ test') LOCATION 's3://bucket/golden/it\\'s/region=x/'"), dialect);
    assert.ok(ddl.includes('lake.`orders-v2_current`'), dialect);
  }
  // Hive's bare identifiers cannot start with _, Spark's can.
  assert.ok((await catalogDdl(catalog, [table], { dialect: 'hive', locationRoot: root })).includes('  `_source_topic` STRING,'));
  assert.ok((await catalogDdl(catalog, [table], { dialect: 'spark', locationRoot: root })).includes('  _source_topic STRING,'));
});

test('types: DuckDB aliases, decimals and maps map; a type no dialect reads leaves its column out with a note', async (t) => {
  assert.equal(mapType('TIMESTAMPTZ', 'trino'), 'timestamp(6)');
  assert.equal(mapType('timestamp with time zone', 'spark'), 'TIMESTAMP');
  assert.equal(mapType('DECIMAL(18,3)', 'trino'), 'decimal(18,3)');
  assert.equal(mapType('MAP(VARCHAR, BIGINT[])', 'hive'), 'MAP<STRING, ARRAY<BIGINT>>');
  assert.equal(mapType('STRUCT("a ""q""" INTEGER)[][]', 'trino'), 'array(array(row("a ""q""" integer)))');
  assert.equal(mapType('UHUGEINT', 'spark'), null);
  assert.equal(mapType('STRUCT(a UUID)', 'trino'), null, 'an unmappable field makes the whole column unmappable');
  assert.equal(mapType('STRUCT(a', 'trino'), null, 'a malformed type is not mapped');

  const catalog = await memoryCatalog(t);
  await addTable(catalog, tableInput({ partitionKeys: [] }), [{ name: 'id', type: 'BIGINT', nullable: false }, { name: 'big', type: 'UHUGEINT', nullable: true }], {});
  const table = (await catalog.getTable('lake', 'orders'))!;
  const ddl = await catalogDdl(catalog, [table], { dialect: 'spark', locationRoot: 's3://b/' });
  assert.ok(ddl.includes(`-- Column "big" is left out: Spark has no type that reads DuckDB's UHUGEINT.\nCREATE TABLE IF NOT EXISTS lake.orders (\n  id BIGINT\n)\nUSING parquet\nLOCATION 's3://b/golden/orders.processed/';`), ddl);
  assert.doesNotMatch(ddl, /^ALTER TABLE/m, 'an unpartitioned table has no partition statements');
  assert.ok(ddl.includes('-- The table has no lineage columns, so the view applies only the compaction rule.'));
});

test('Hive and Spark batch partitions, PARTITIONS_PER_STATEMENT to a statement', async (t) => {
  const catalog = await memoryCatalog(t);
  const partitions: Record<string, Record<string, string>> = {};
  for (let i = 0; i < PARTITIONS_PER_STATEMENT + 1; i++) partitions[`golden/orders.processed/p${String(i).padStart(3, '0')}/`] = { n: String(i) };
  await addTable(catalog, tableInput({ partitionKeys: ['n'] }), [{ name: 'id', type: 'BIGINT', nullable: false }], partitions);
  const table = (await catalog.getTable('lake', 'orders'))!;
  const hive = await catalogDdl(catalog, [table], { dialect: 'hive', locationRoot: 's3://b/' });
  assert.equal(hive.match(/^ALTER TABLE lake\.orders ADD IF NOT EXISTS$/gm)?.length, 2);
  assert.equal(hive.match(/^ {2}PARTITION \(n=/gm)?.length, PARTITIONS_PER_STATEMENT + 1);
  const trino = await catalogDdl(catalog, [table], { dialect: 'trino', locationRoot: 's3://b/' });
  assert.equal(trino.match(/^CALL system\.register_partition\(/gm)?.length, PARTITIONS_PER_STATEMENT + 1);
});

test('the lake root: a plain path or file URL becomes file:///dir/, an s3 URL loses its parameters', () => {
  assert.equal(locationRootOf('/var/lake'), 'file:///var/lake/');
  assert.equal(locationRootOf('data/lake'), `file://${path.resolve('data/lake')}/`);
  assert.equal(locationRootOf('file:///var/my%20lake'), 'file:///var/my lake/');
  assert.equal(locationRootOf('s3://bucket/prefix?endpoint=http://localhost:9000&forcePathStyle=true'), 's3://bucket/prefix/');
  assert.equal(locationRootOf('s3a://bucket/prefix/'), 's3a://bucket/prefix/');
});

type Outcome = { code: number | null; stdout: string; stderr: string };

function oxbow(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OXBOW_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oxbow ${args.join(' ')} did not exit; stderr:\n${stderr}`));
    }, 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('oxbow catalog ddl: prints the DDL of a catalog file; unknown dialect or table and a missing dialect are usage errors', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-ddl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'catalog.db');
  const catalog = await openCatalog(file);
  await addTable(catalog, tableInput(), EVERY_TYPE, TWO_HOURS);
  await addTable(catalog, tableInput({ name: 'payments', location: 'golden/payments.processed/' }), [{ name: 'id', type: 'BIGINT', nullable: false }], {});
  await catalog.close();
  const base = ['catalog', 'ddl', '--catalog', file, '--storage', path.join(dir, 'lake')];

  const [all, one, rooted, badDialect, noDialect, badTable, formatGiven] = await Promise.all([
    oxbow([...base, '--dialect', 'hive']),
    oxbow([...base, 'orders', '--dialect', 'trino']),
    oxbow([...base, 'orders', '--dialect', 'spark', '--location-root', 's3a://bucket/lake']),
    oxbow([...base, '--dialect', 'presto']),
    oxbow([...base]),
    oxbow([...base, 'shipments', '--dialect', 'hive']),
    oxbow([...base, '--dialect', 'hive', '--format', 'json']),
  ]);
  assert.equal(all.code, 0, all.stderr);
  assert.ok(all.stdout.includes('CREATE EXTERNAL TABLE IF NOT EXISTS lake.orders ('));
  assert.ok(all.stdout.includes('CREATE EXTERNAL TABLE IF NOT EXISTS lake.payments ('));
  assert.ok(all.stdout.includes(`LOCATION 'file://${path.join(dir, 'lake')}/golden/orders.processed/2026/11/22/05/'`), 'the default root is the storage URL');

  assert.equal(one.code, 0, one.stderr);
  assert.ok(one.stdout.startsWith('-- Oxbow lake tables for Trino (Hive connector)'));
  assert.ok(one.stdout.includes('CREATE TABLE IF NOT EXISTS lake.orders ('));
  assert.ok(!one.stdout.includes('payments'));
  assert.equal(one.stdout.match(/^CALL system\.register_partition/gm)?.length, 2);

  assert.equal(rooted.code, 0, rooted.stderr);
  assert.ok(rooted.stdout.includes("LOCATION 's3a://bucket/lake/golden/orders.processed/';"));

  assert.equal(badDialect.code, 2);
  assert.match(badDialect.stderr, /--dialect: "presto" is not allowed; expected trino, hive, spark \[OXBOW_CLI_USAGE\]/);
  assert.equal(noDialect.code, 2);
  assert.match(noDialect.stderr, /catalog ddl needs --dialect: trino, hive, spark/);
  assert.equal(badTable.code, 2);
  assert.match(badTable.stderr, /unknown table "shipments" in lake; expected orders, payments \[OXBOW_CLI_USAGE\]/);
  assert.equal(formatGiven.code, 2);
  assert.equal(all.stderr, '');
});
