// The Parquet writer: DuckDB reads every written file back and the values equal the input.
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { mapJsonSchema, ParquetWriter, SinkError, writeParquet } from '../../src/sink/index.ts';

const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: ['string', 'null'] },
    amount: { type: 'number' },
    paid: { type: 'boolean' },
    created: { type: 'string', format: 'date-time' },
    ts: { type: ['string', 'integer'] },
    customer: {
      type: 'object',
      properties: { city: { type: 'string' }, geo: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } } } },
    },
    tags: { type: 'array', items: { type: 'string' } },
    lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
    extra: { type: 'object' },
    _source: { type: 'object', properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' } } },
  },
  required: ['id', 'ts', '_source'],
};
const mapping = mapJsonSchema(schema, { eventTimeField: 'ts' });

// Raw JSON text, as the processed topic holds it: the integers past 2^53 never become JavaScript numbers.
const lines = [
  '{"id":9007199254740993,"name":"Zoë ✓ 日本","amount":12.5,"paid":true,"created":"2026-11-22T06:30:00.123456+01:00","ts":"2026-11-22T05:30:00Z","customer":{"city":"Köln","geo":{"lat":50.9,"lon":6.96}},"tags":["a","b"],"lines":[{"sku":"x","qty":2},{"sku":"y","qty":-1}],"extra":{"k":[1,{"z":null}]},"_source":{"topic":"orders.raw","partition":3,"offset":9007199254740999}}',
  '{"id":-9223372036854775808,"name":null,"amount":-0.25,"paid":false,"created":"1999-12-31T23:59:59-08:00","ts":1795325400123,"customer":{"city":null,"geo":null},"tags":[],"lines":null,"_source":{"topic":"orders.raw","partition":0,"offset":0}}',
  '{"id":9223372036854775807,\n"ts":"2026-11-22T04:00:00.5-01:30","customer":null,"tags":[null,"c"],"_source":{"topic":"orders.raw","partition":2147483647,"offset":9223372036854775807}}',
];

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-parquet-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function reader(t: TestContext) {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '128MB' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  t.after(() => {
    connection.closeSync();
    instance.closeSync();
  });
  return async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
}

const selectAsText = (file: string) =>
  `SELECT id::VARCHAR id, name, amount, paid, created::VARCHAR created, ts::VARCHAR ts, customer::VARCHAR customer, tags::VARCHAR tags, ` +
  `lines::VARCHAR lines, extra::VARCHAR extra, _source_topic, _source_partition, _source_offset::VARCHAR _source_offset FROM read_parquet('${file}')`;

const expected = [
  {
    id: '9007199254740993', name: 'Zoë ✓ 日本', amount: 12.5, paid: true, created: '2026-11-22 05:30:00.123456+00', ts: '2026-11-22 05:30:00+00',
    customer: "{'city': Köln, 'geo': {'lat': 50.9, 'lon': 6.96}}", tags: '[a, b]', lines: "[{'sku': x, 'qty': 2}, {'sku': y, 'qty': -1}]",
    extra: '{"k":[1,{"z":null}]}', _source_topic: 'orders.raw', _source_partition: 3, _source_offset: '9007199254740999',
  },
  {
    id: '-9223372036854775808', name: null, amount: -0.25, paid: false, created: '2000-01-01 07:59:59+00', ts: '2026-11-22 05:30:00.123+00',
    customer: "{'city': NULL, 'geo': NULL}", tags: '[]', lines: null, extra: null, _source_topic: 'orders.raw', _source_partition: 0, _source_offset: '0',
  },
  {
    id: '9223372036854775807', name: null, amount: null, paid: null, created: null, ts: '2026-11-22 05:30:00.5+00',
    customer: null, tags: '[NULL, c]', lines: null, extra: null, _source_topic: 'orders.raw', _source_partition: 2147483647, _source_offset: '9223372036854775807',
  },
];

test('every value survives the round trip: int64 extremes, nesting, lists, nulls, zoned timestamps, unicode', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'orders.processed+0+0+2.snappy.parquet');
  const result = await writeParquet(lines, mapping, file, { threads: 1, memoryLimit: '128MB' });
  assert.equal(result.rows, 3);
  assert.ok(result.bytes > 0);
  const read = await reader(t);
  assert.deepEqual(await read(selectAsText(file)), expected);
  // Only the Parquet file is left; the NDJSON input is gone.
  assert.deepEqual(await readdir(dir), ['orders.processed+0+0+2.snappy.parquet']);
  const types = await read(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
  assert.deepEqual(
    types.map((r) => [r.column_name, r.column_type]),
    mapping.columns.map((c) => [c.name, c.duckType.replaceAll('"', '').replace('TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE')]),
  );
  // Timestamps are Parquet INT64 timestamps adjusted to UTC (instants), which Spark, Trino and Hive read as such.
  const ts = await read(`SELECT type, logical_type FROM parquet_schema('${file}') WHERE name = 'ts'`);
  assert.equal(ts[0]?.type, 'INT64');
  assert.match(String(ts[0]?.logical_type), /isAdjustedToUTC=1/);
});

test('writes each compression, as the file metadata records', async (t) => {
  const dir = await tempDir(t);
  const read = await reader(t);
  const writer = await ParquetWriter.create({ threads: 1, memoryLimit: '128MB' });
  t.after(() => writer.closeSync());
  for (const [compression, stored] of [['snappy', 'SNAPPY'], ['zstd', 'ZSTD'], ['gzip', 'GZIP']] as const) {
    const file = path.join(dir, `${compression}.parquet`);
    const result = await writer.write(lines, mapping, file, { compression });
    assert.equal(result.rows, 3);
    const codecs = await read(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    assert.deepEqual(codecs, [{ compression: stored }]);
    assert.deepEqual(await read(selectAsText(file)), expected);
  }
});

test('UTF-8 bytes and objects are inputs too, and concurrent writes queue on one writer', async (t) => {
  const dir = await tempDir(t);
  const read = await reader(t);
  const writer = await ParquetWriter.create({ threads: 1, memoryLimit: '128MB' });
  t.after(() => writer.closeSync());
  const bytes = lines.map((l) => Buffer.from(l, 'utf8'));
  const objects = [
    { id: 7, ts: '2026-11-22T05:00:00Z', tags: ['ü'], _source: { topic: 't', partition: 1, offset: 5 } },
    { id: 8, ts: 1795325400123.9, tags: null, _source: { topic: 't', partition: 1, offset: 6 } },
  ];
  const [a, b] = await Promise.all([
    writer.write(bytes, mapping, path.join(dir, 'bytes.parquet')),
    writer.write(objects, mapping, path.join(dir, 'objects.parquet')),
  ]);
  assert.equal(a.rows, 3);
  assert.equal(b.rows, 2);
  assert.deepEqual(await read(selectAsText(path.join(dir, 'bytes.parquet'))), expected);
  assert.deepEqual(await read(`SELECT id, ts::VARCHAR ts, tags::VARCHAR tags, _source_offset FROM read_parquet('${path.join(dir, 'objects.parquet')}')`), [
    { id: '7', ts: '2026-11-22 05:00:00+00', tags: '[ü]', _source_offset: '5' },
    { id: '8', ts: '2026-11-22 05:30:00.123+00', tags: null, _source_offset: '6' },
  ]);
});

test('column statistics come from the file, across row groups', async (t) => {
  const dir = await tempDir(t);
  const many = Array.from({ length: 5000 }, (_, i) =>
    JSON.stringify({ id: i * 7 - 100, name: i % 10 === 0 ? null : `n${i}`, amount: i / 4, paid: i % 2 === 0, ts: 1795325400000 + i, _source: { topic: 'orders.raw', partition: 0, offset: 1000 + i } }),
  );
  const result = await writeParquet(many, mapping, path.join(dir, 'many.parquet'), { threads: 1, memoryLimit: '128MB', rowGroupRows: 1024 });
  assert.equal(result.rows, 5000);
  const stats = new Map(result.columnStats.map((s) => [s.column, s]));
  assert.deepEqual(stats.get('id'), { column: 'id', nullCount: 0, min: '-100', max: String(4999 * 7 - 100) });
  assert.deepEqual(stats.get('name')?.nullCount, 500);
  assert.deepEqual(stats.get('amount'), { column: 'amount', nullCount: 0, min: '0.0', max: '1249.75' });
  assert.deepEqual(stats.get('_source_offset'), { column: '_source_offset', nullCount: 0, min: '1000', max: '5999' });
  assert.equal(stats.get('created')?.nullCount, 5000);
  assert.equal(stats.has('customer'), false, 'nested columns have no top-level statistics');
  const read = await reader(t);
  const groups = await read(`SELECT count(DISTINCT row_group_id)::INTEGER n FROM parquet_metadata('${path.join(dir, 'many.parquet')}')`);
  assert.ok(Number(groups[0]?.n) > 1);
});

test('a record that does not fit its declared column fails the write with a code, leaving no input file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'bad.parquet');
  await assert.rejects(
    writeParquet(['{"id":"not a number","ts":1,"_source":{"topic":"t","partition":0,"offset":0}}'], mapping, file, { threads: 1, memoryLimit: '128MB' }),
    (e: unknown) => e instanceof SinkError && e.code === 'OXBOW_SINK_PARQUET_WRITE_FAILED' && !e.retryable && e.message.includes(file),
  );
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.ndjson')), []);
});
