// The CatalogStore contract on PostgreSQL (127.0.0.1:5432, always there in this workplace: a failure to connect fails
// the tests), each test in a throw-away schema of this file's own, plus what only the PostgreSQL backend promises.
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import pg from 'pg';
import { CatalogErrorCode, MIGRATIONS, PostgresCatalog, type PostgresCatalogOptions } from '../../src/catalog/index.ts';
import { catalogContract, isCatalogError } from './contract.ts';

const URL = process.env.OXBOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// Every schema this file makes starts with this prefix, so the end of the file can drop them all.
const PREFIX = `oxbow_test_${process.pid}_${Date.now().toString(36)}`;
let schemas = 0;
const admin = new pg.Client({ connectionString: URL });

before(async () => {
  await admin.connect();
});

after(async () => {
  const { rows } = await admin.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [PREFIX]);
  for (const { nspname } of rows) await admin.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  await admin.end();
});

function freshSchema(t: TestContext): string {
  const schema = `${PREFIX}_${++schemas}`;
  t.after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return schema;
}

async function openIn(t: TestContext, schema: string, options: PostgresCatalogOptions = {}): Promise<PostgresCatalog> {
  const store = await PostgresCatalog.open(URL, { schema, ...options });
  t.after(() => store.close());
  return store;
}

catalogContract('PostgreSQL', (t) => openIn(t, freshSchema(t)));

test('PostgreSQL: four stores migrating one new schema at once apply each step once', async (t) => {
  const schema = freshSchema(t);
  const stores = await Promise.all([1, 2, 3, 4].map(() => openIn(t, schema)));
  await Promise.all(stores.map((s) => s.migrate()));
  const { rows } = await admin.query(`SELECT version FROM "${schema}".oxbow_catalog_migrations ORDER BY version`);
  assert.deepEqual(rows.map((r: { version: number }) => r.version), MIGRATIONS.map((m) => m.version));
  await stores[0]!.createNamespace('lake');
  assert.deepEqual(await stores[3]!.listNamespaces(), ['lake']);
});

test('PostgreSQL: every catalog table lives in the given schema, and the URL names it without credentials', async (t) => {
  const schema = freshSchema(t);
  const store = await PostgresCatalog.open(URL.replace('postgres@', 'postgres:secret@'), { schema });
  t.after(() => store.close());
  await store.migrate();
  assert.equal(store.url, `postgres://127.0.0.1:5432/postgres?schema=${schema}`);
  const { rows } = await admin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]);
  assert.deepEqual(rows.map((r) => r.table_name), ['catalog_files', 'catalog_namespaces', 'catalog_partitions', 'catalog_schema_versions', 'catalog_tables', 'oxbow_catalog_migrations']);
});

test('PostgreSQL: an unreachable server gives UNAVAILABLE quickly', async () => {
  const started = performance.now();
  await assert.rejects(PostgresCatalog.open('postgres://postgres:secret@127.0.0.1:1/postgres', { connectTimeoutMs: 1000 }), (e: unknown) => {
    isCatalogError(CatalogErrorCode.UNAVAILABLE, 'catalog postgres://127.0.0.1:1/postgres is unavailable')(e);
    assert.ok(!(e as Error).message.includes('secret'), 'no password in the message');
    assert.equal((e as { retryable: boolean }).retryable, true);
    return true;
  });
  assert.ok(performance.now() - started < 3000, `took ${performance.now() - started} ms`);
});

test('PostgreSQL: a schema name outside lower-case letters, digits and "_" is refused (BAD_NAME)', async () => {
  for (const schema of ['', 'Upper', 'a-b', 'x"; DROP SCHEMA public; --', '1abc', 'a'.repeat(64)]) {
    await assert.rejects(PostgresCatalog.open(URL, { schema }), isCatalogError(CatalogErrorCode.BAD_NAME, JSON.stringify(schema)));
  }
});

test('PostgreSQL: listFiles by event time and by partition use the indexes, not a scan of every file', async (t) => {
  const schema = freshSchema(t);
  const store = await openIn(t, schema);
  await store.migrate();
  const hours = 168;
  for (const name of ['orders', 'returns']) {
    await store.upsertTable({ namespace: 'lake', name, location: `golden/${name}/`, format: 'parquet', partitionKeys: ['hour'], eventTimeColumn: 'ts', owner: null, tags: {} }, [
      { name: 'ts', type: 'TIMESTAMP WITH TIME ZONE', nullable: false },
    ]);
    const values: Record<string, Record<string, string>> = {};
    for (let h = 0; h < hours; h++) values[`golden/${name}/${h}/`] = { hour: String(h) };
    const files = Array.from({ length: 5000 }, (_, i) => ({
      path: `golden/${name}/${i % hours}/f${i}.parquet`,
      partition: `golden/${name}/${i % hours}/`,
      size: 100,
      rows: 10,
      eventTimeMin: (i % hours) * 3_600_000,
      eventTimeMax: (i % hours) * 3_600_000 + 3_599_999,
      columnStats: [],
      committedAt: new Date(0),
    }));
    await store.addFiles('lake', name, files, values);
  }
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  t.after(() => client.end());
  await client.query(`SET search_path = "${schema}"; ANALYZE`);
  const plan = async (sql: string) => (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
  // The statements listFiles runs for one hour, and for two partitions.
  const byTime = await plan('SELECT path FROM catalog_files WHERE table_id = 1 AND (event_time_min IS NULL OR (event_time_min <= 363599999 AND event_time_max >= 360000000))');
  assert.match(byTime, /catalog_files_by_event_time/, byTime);
  assert.doesNotMatch(byTime, /Seq Scan/, byTime);
  const byPartition = await plan("SELECT path FROM catalog_files WHERE table_id = 1 AND partition_location IN ('golden/orders/1/', 'golden/orders/2/')");
  assert.match(byPartition, /catalog_files_by_partition/, byPartition);
  assert.doesNotMatch(byPartition, /Seq Scan/, byPartition);
});
