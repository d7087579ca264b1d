// SQL over the lake as a user gets it: the sink writes files, the crawler registers them, the engine reads exactly
// the catalog's files (pruned to one hour for a one-hour query), and refuses anything that is not a read query.
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { crawl } from '../../src/catalog/crawler.ts';
import { lakeTables } from '../../src/catalog/lake-tables.ts';
import { openCatalog } from '../../src/catalog/open.ts';
import type { CatalogStore } from '../../src/catalog/store.ts';
import { resolveConfig, type OxbowConfig } from '../../src/config/index.ts';
import { LakeEngine } from '../../src/query/engine.ts';
import { SqlHttpServer } from '../../src/query/http.ts';
import { QueryError } from '../../src/query/errors.ts';
import { defer, tempDir } from '../helpers/broker.ts';
import { COUNTRIES, dataset, lakeFiles, order, ordersSchema, queryLake, sinkEnv, startSink, until, type SinkEnv } from '../sink/helpers.ts';

type Lake = { env: SinkEnv; config: OxbowConfig; catalog: CatalogStore; engine: LakeEngine };

const HOURS = 6;
const PER_HOUR = 100;

/** A lake of 600 orders over six hours written by the real sink, crawled into a SQLite catalog. */
async function lake(t: TestContext, engineOptions: { timeoutMs?: number; maxRows?: number } = {}): Promise<Lake> {
  const env = await sinkEnv(t, { partitions: 2 });
  const sink = await startSink(t, env, { rotation: { flushSize: 40, rotateScheduleIntervalMs: 200 } });
  for (let p = 0; p < 2; p++) {
    await env.send(Array.from({ length: (HOURS * PER_HOUR) / 2 }, (_, j) => {
      const i = p * ((HOURS * PER_HOUR) / 2) + j;
      return order(i, `2026-11-22T${String(Math.floor(i / PER_HOUR)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`, p);
    }), p);
  }
  await until(() => sink.counters.rowsCommitted === HOURS * PER_HOUR, 20_000, () => JSON.stringify(sink.counters));
  await sink.close();
  const dir = await tempDir(t, 'oxbow-sql-');
  const config = resolveConfig({
    storage: { url: env.root },
    catalog: { url: path.join(dir, 'catalog.db') },
    datasets: { orders: { schema: ordersSchema, eventTimeField: 'ts' } },
  });
  const catalog = await openCatalog(config.catalog.url);
  defer(t, () => catalog.close());
  const engine = await LakeEngine.create({ catalog, store: env.store, namespace: 'lake', cacheDir: path.join(dir, 'cache'), threads: 1, memoryLimit: '256MB', ...engineOptions });
  defer(t, () => engine.close());
  return { env, config, catalog, engine };
}

test('the crawler registers what the sink wrote; SQL over the catalog equals SQL over all files; one hour reads one hour', async (t) => {
  const { env, config, catalog, engine } = await lake(t);
  const first = await crawl(catalog, env.store, 'lake', lakeTables(config));
  const files = await lakeFiles(env.root);
  assert.deepEqual(first.tables, [{ name: 'orders', added: files.length, removed: 0, files: files.length }]);
  assert.deepEqual(first.problems, []);
  const again = await crawl(catalog, env.store, 'lake', lakeTables(config));
  assert.deepEqual(again.tables, [{ name: 'orders', added: 0, removed: 0, files: files.length }], 'nothing changed, nothing registered');
  const partitions = await catalog.listPartitions('lake', 'orders');
  assert.equal(partitions.length, HOURS);
  assert.deepEqual(partitions[3]!.values, { year: '2026', month: '11', day: '22', hour: '03' });
  assert.equal(partitions.reduce((n, p) => n + p.rows, 0), HOURS * PER_HOUR);
  assert.equal(partitions[3]!.eventTimeMin, Date.parse('2026-11-22T03:00:00Z'));

  const all = await engine.query('SELECT count(*) AS n, sum(amount) AS total, sum(big)::VARCHAR AS big FROM orders');
  const [direct] = await queryLake(env.root, 'SELECT count(*) AS n, sum(amount) AS total, sum(big)::VARCHAR AS big FROM lake');
  assert.deepEqual(all.rows, [[String(direct!.n), direct!.total, direct!.big]], 'BIGINT comes as text, exactly');
  assert.deepEqual(all.columns.map((c) => c.type), ['BIGINT', 'DOUBLE', 'VARCHAR']);
  assert.deepEqual(all.tables, [{ name: 'orders', filesTotal: files.length, filesRead: files.length }]);

  const hour = `SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM orders WHERE ts >= '2026-11-22 03:00:00+00' AND ts < TIMESTAMPTZ '2026-11-22 04:00:00+00'`;
  const pruned = await engine.query(hour);
  const hourFiles = files.filter((f) => f.includes('/2026/11/22/03/')).length;
  assert.deepEqual(pruned.tables, [{ name: 'orders', filesTotal: files.length, filesRead: hourFiles }], 'only the hour’s files are read');
  assert.ok(hourFiles < files.length / 3);
  // The same predicate where it cannot prune (inside a subquery) reads every file and gives the same answer.
  const unpruned = await engine.query(`SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM (SELECT * FROM orders) WHERE ts >= '2026-11-22 03:00:00+00' AND ts < '2026-11-22 04:00:00+00'`);
  assert.equal(unpruned.tables[0]!.filesRead, files.length);
  assert.deepEqual(pruned.rows, unpruned.rows);
  assert.deepEqual(pruned.rows, [[String(PER_HOUR), '300', '399']]);

  // Qualified names, parameters, BETWEEN on the event time.
  const param = await engine.query('SELECT count(*) FROM lake.orders WHERE country = $1 AND ts BETWEEN $2 AND $3', ['DE', '2026-11-22 00:00:00+00', '2026-11-22 23:59:59+00']);
  assert.deepEqual(param.rows, [[String((HOURS * PER_HOUR) / COUNTRIES.length)]]);
});

test('a removed file disappears from the catalog; a corrupt file is reported and skipped, never fatal', async (t) => {
  const { env, config, catalog, engine } = await lake(t);
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  // Asked once before the change: the engine keeps the file list only while the catalog's files version holds.
  assert.deepEqual((await engine.query('SELECT count(*) FROM orders')).rows, [[String(HOURS * PER_HOUR)]]);
  const files = await lakeFiles(env.root);
  const victim = files.find((f) => f.includes('/2026/11/22/05/'))!;
  const [gone] = await queryLake(env.root, `SELECT count(*) AS n FROM lake WHERE file LIKE '%${victim}'`);
  await rm(path.join(env.root, victim));
  const corrupt = 'golden/orders.processed/2026/11/22/09/orders.processed+0+90000+90009.snappy.parquet';
  await env.store.put(corrupt, Buffer.from('this is not parquet'));
  const result = await crawl(catalog, env.store, 'lake', lakeTables(config));
  assert.deepEqual(result.tables.map((x) => [x.added, x.removed]), [[0, 1]]);
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0]!.path, corrupt);
  assert.equal(result.problems[0]!.table, 'orders');
  assert.match(result.problems[0]!.why, /parquet|magic|file/i);
  const [count] = (await engine.query('SELECT count(*) FROM orders')).rows;
  assert.deepEqual(count, [String(HOURS * PER_HOUR - Number(gone!.n))]);
});

test('only read queries run: hostile statements are refused with a clear error and the engine goes on', async (t) => {
  const { env, config, catalog, engine } = await lake(t, { timeoutMs: 500, maxRows: 50 });
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  const outside = path.join(path.dirname(env.root), 'outside.csv');
  await writeFile(outside, 'a,b\n1,2\n');
  const hostile: [string, RegExp][] = [
    [`COPY (SELECT * FROM orders) TO '${path.join(env.root, 'x.csv')}'`, /only read queries .*COPY is not one/],
    ["ATTACH '/tmp/x.duckdb' AS x", /only read queries .*ATTACH/],
    ['INSTALL httpfs', /only read queries .*INSTALL/],
    ['LOAD httpfs', /only read queries .*LOAD/],
    ["SET enable_external_access = true", /only read queries .*SET/],
    ['PRAGMA database_list', /only read queries .*PRAGMA/],
    ['CREATE TABLE t AS SELECT 1', /only read queries .*CREATE/],
    ['DROP VIEW orders', /only read queries .*DROP/],
    ['EXPORT DATABASE \'/tmp/x\'', /only read queries .*EXPORT/],
    [`SELECT * FROM read_csv('${outside}')`, /table function read_csv\(\) is not allowed/],
    ["SELECT * FROM read_text('/etc/hostname')", /table function read_text\(\) is not allowed/],
    ["SELECT * FROM glob('/*')", /table function glob\(\) is not allowed/],
    [`WITH x AS (SELECT * FROM read_parquet('${path.join(env.root, 'golden', '**', '*.parquet')}')) SELECT count(*) FROM x`, /table function read_parquet\(\) is not allowed/],
    [`SELECT * FROM '${outside}'`, /does not exist/],
    ['SELECT 1; SELECT 2', /one statement per query; this has 2/],
    ["SELECT count(*) FROM orders; COPY orders TO '/tmp/y.csv'", /only read queries|one statement/],
    ['SELECT * FROM pg_catalog.nothing', /schema "pg_catalog" does not exist|does not exist/],
    ['SELECT * FROM nope', /table "nope" does not exist; tables: orders/],
    ['SELEC 1', /syntax error/],
    ['', /the query is empty/],
    ['SELECT count(*) FROM range(100000000000)', /ran longer than 500 ms/],
    ['SELECT * FROM orders', /more than 50 rows/],
  ];
  for (const [sql, message] of hostile) {
    await assert.rejects(engine.query(sql), (err: unknown) => {
      assert.ok(err instanceof QueryError, `${sql}: ${String(err)}`);
      assert.match(err.message, message, sql);
      assert.match(err.sqlState, /^[0-9A-Z]{5}$/);
      return true;
    });
  }
  assert.deepEqual((await engine.query('SELECT count(*) FROM orders')).rows, [[String(HOURS * PER_HOUR)]], 'still serving');
});

test('results keep the query’s order, column names and LIMIT, are bounded by maxRows, and follow the catalog under concurrent queries', async (t) => {
  const { env, config, catalog, engine } = await lake(t, { maxRows: 50 });
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  const ids = async (sql: string) => (await engine.query(sql)).rows.map((r) => Number(r[0]));
  assert.deepEqual(await ids('SELECT id FROM orders ORDER BY id DESC LIMIT 50'), Array.from({ length: 50 }, (_, i) => HOURS * PER_HOUR - 1 - i));
  assert.deepEqual(await ids('SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 5'), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  assert.deepEqual(await ids('SELECT id FROM orders ORDER BY id LIMIT (SELECT 3)'), [0, 1, 2], 'a LIMIT that is not a constant');
  assert.deepEqual(await ids('SELECT id FROM lake.orders WHERE id < 3 ORDER BY id'), [0, 1, 2]);
  await assert.rejects(engine.query('SELECT id FROM orders LIMIT 51'), /more than 50 rows/);
  await assert.rejects(engine.query('SELECT id FROM orders LIMIT (SELECT 60)'), /more than 50 rows/);
  const named = await engine.query('SELECT id, id + 1 AS id, 7 FROM orders ORDER BY 1 LIMIT 2');
  assert.deepEqual(named.columns.map((c) => c.name), ['id', 'id', '7'], 'names as the query gives them, duplicates included');
  assert.deepEqual(named.rows, [['0', '1', 7], ['1', '2', 7]]);
  assert.deepEqual((await engine.query('VALUES (1, \'a\'), (2, \'b\')')).rows, [[1, 'a'], [2, 'b']]);
  await assert.rejects(engine.query('SELECT nope FROM orders'), (err: unknown) => err instanceof QueryError && /nope/.test(err.message));

  // Whole-table and one-hour queries at once, before and after new files are crawled: each sees the catalog it asked.
  const whole = 'SELECT count(*) FROM orders';
  const hour = `SELECT count(*) FROM orders WHERE ts >= '2026-11-22 02:00:00+00' AND ts < '2026-11-22 03:00:00+00'`;
  const before = await Promise.all(Array.from({ length: 6 }, (_, i) => engine.query(i % 2 === 0 ? whole : hour)));
  assert.deepEqual(before.map((r) => r.rows[0]![0]), ['600', '100', '600', '100', '600', '100']);
  const sink = await startSink(t, env, { rotation: { flushSize: 40, rotateScheduleIntervalMs: 200 } });
  await env.send(Array.from({ length: 30 }, (_, j) => order(10_000 + j, `2026-11-22T02:${String(j).padStart(2, '0')}:30Z`, 0)), 0);
  await until(() => sink.counters.rowsCommitted === 30, 20_000, () => JSON.stringify(sink.counters));
  await sink.close();
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  const after = await Promise.all(Array.from({ length: 6 }, (_, i) => engine.query(i % 2 === 0 ? whole : hour)));
  assert.deepEqual(after.map((r) => r.rows[0]![0]), ['630', '130', '630', '130', '630', '130']);
});

test('POST /v1/sql answers with typed columns and rows, and errors as JSON with a code and SQLSTATE', async (t) => {
  const { env, config, catalog, engine } = await lake(t, { maxRows: 1000 });
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  const server = await SqlHttpServer.start({ engine });
  defer(t, () => server.close());
  const post = (body: unknown) =>
    fetch(`http://${server.address}/v1/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const ok = await post({ sql: 'SELECT country, count(*) AS n, sum(amount) AS total FROM orders WHERE id < $1 GROUP BY 1 ORDER BY 1', params: [100] });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { columns: { name: string; type: string }[]; rows: unknown[][]; tables: unknown[] };
  assert.deepEqual(body.columns, [{ name: 'country', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }, { name: 'total', type: 'DOUBLE' }]);
  assert.deepEqual(body.rows.map((r) => [r[0], r[1]]), COUNTRIES.slice().sort().map((c) => [c, '20']));
  const all = await post({ sql: 'SELECT id, ts, tags, customer FROM orders ORDER BY id' });
  const allBody = (await all.json()) as { rows: unknown[][] };
  assert.equal(allBody.rows.length, HOURS * PER_HOUR);
  assert.deepEqual(allBody.rows[1], ['1', '2026-11-22 00:01:00+00', ['t1', 'x'], { name: 'c1', vip: false }]);

  const cases: [unknown, number, string, string][] = [
    [{ sql: 'SELEC 1' }, 400, 'OXBOW_QUERY_SYNTAX', '42601'],
    [{ sql: "COPY orders TO '/tmp/x.csv'" }, 403, 'OXBOW_QUERY_NOT_ALLOWED', '42501'],
    [{ sql: 'SELECT * FROM nope' }, 404, 'OXBOW_QUERY_UNKNOWN_TABLE', '42P01'],
    [{ sql: 'SELECT no_such_column FROM orders' }, 422, 'OXBOW_QUERY_FAILED', '42703'],
    ['{not json', 400, 'OXBOW_HTTP_BAD_REQUEST', '22P02'],
    [{ query: 'SELECT 1' }, 400, 'OXBOW_HTTP_BAD_REQUEST', '22023'],
  ];
  for (const [request, status, code, sqlState] of cases) {
    const res = await post(request);
    const error = ((await res.json()) as { error: { code: string; sqlState: string; message: string } }).error;
    assert.deepEqual([res.status, error.code, error.sqlState], [status, code, sqlState], JSON.stringify(request));
    assert.ok(error.message.length > 10);
  }
  assert.equal((await fetch(`http://${server.address}/v1/health`)).status, 200);
});

test('SQL shows each raw record once, with its newest processing, when a replay put it in another file or in the same one', async (t) => {
  const schema = { type: 'object', properties: { id: { type: 'integer' }, version: { type: 'integer' }, ts: { type: 'string', format: 'date-time' } }, required: ['id', 'ts'] };
  const ds = dataset('replayed', { schema, eventTimeField: 'ts' });
  const env = await sinkEnv(t, { name: 'replayed', ds });
  const line = (raw: number, version: number) => `{"id":${raw},"version":${version},"ts":"2026-11-22T05:00:00Z","_source":{"topic":"replayed.raw","partition":0,"offset":${raw}}}`;
  const sink = await startSink(t, env, { rotation: { flushSize: 1000, rotateScheduleIntervalMs: 300 } });
  await env.send(Array.from({ length: 50 }, (_, i) => line(i, 1)));
  await until(() => sink.counters.rowsCommitted === 50, 20_000);
  // Raw 10–19 replayed into a later file; raw 40 processed twice within one file.
  await env.send([...Array.from({ length: 10 }, (_, i) => line(10 + i, 2)), line(40, 2), line(40, 3), line(60, 1)]);
  await until(() => sink.counters.rowsCommitted === 63, 20_000);
  await sink.close();
  const dir = await tempDir(t, 'oxbow-sql-replay-');
  const config = resolveConfig({ storage: { url: env.root }, catalog: { url: path.join(dir, 'catalog.db') }, datasets: { replayed: { schema, eventTimeField: 'ts' } } });
  const catalog = await openCatalog(config.catalog.url);
  defer(t, () => catalog.close());
  await crawl(catalog, env.store, 'lake', lakeTables(config));
  const engine = await LakeEngine.create({ catalog, store: env.store, namespace: 'lake', cacheDir: path.join(dir, 'cache'), threads: 1 });
  defer(t, () => engine.close());
  const rows = (await engine.query('SELECT id, version FROM replayed ORDER BY id')).rows;
  const expected = [...Array.from({ length: 50 }, (_, i) => [String(i), String(i >= 10 && i < 20 ? 2 : i === 40 ? 3 : 1)]), ['60', '1']];
  assert.deepEqual(rows, expected);
});
