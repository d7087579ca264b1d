// The CatalogStore contract on a SQLite file and in memory, plus what only the SQLite backend promises.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { CatalogErrorCode, MIGRATIONS, SqliteCatalog } from '../../src/catalog/index.ts';
import { catalogContract, isCatalogError } from './contract.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-catalog-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openFile(t: TestContext, file?: string): Promise<SqliteCatalog> {
  const store = await SqliteCatalog.open(file ?? path.join(await tempDir(t), 'catalog.db'));
  t.after(() => store.close());
  return store;
}

catalogContract('SQLite file', (t) => openFile(t));

catalogContract('SQLite in memory', async (t) => {
  const store = await SqliteCatalog.open(':memory:');
  t.after(() => store.close());
  return store;
});

test('SQLite: the file is in WAL mode with foreign keys on, and the URL names it', async (t) => {
  const file = path.join(await tempDir(t), 'catalog.db');
  const store = await openFile(t, file);
  await store.migrate();
  assert.equal(store.url, `sqlite://${file}`);
  const memory = await SqliteCatalog.open(':memory:');
  assert.equal(memory.url, 'sqlite::memory:');
  await memory.close();
  const other = new DatabaseSync(file, { readOnly: true });
  t.after(() => other.close());
  assert.equal(other.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
  assert.deepEqual(
    other.prepare('SELECT version FROM oxbow_catalog_migrations ORDER BY version').all().map((r) => r.version),
    MIGRATIONS.map((m) => m.version),
  );
});

test('SQLite: two stores on one file migrate together and see each other\'s writes', async (t) => {
  const file = path.join(await tempDir(t), 'shared.db');
  const a = await openFile(t, file);
  const b = await openFile(t, file);
  await Promise.all([a.migrate(), b.migrate()]);
  await a.upsertTable({ namespace: 'lake', name: 'orders', location: 'golden/orders/', format: 'parquet', partitionKeys: [], eventTimeColumn: null, owner: null, tags: {} }, [
    { name: 'id', type: 'BIGINT', nullable: false },
  ]);
  assert.equal((await b.getTable('lake', 'orders'))?.location, 'golden/orders/');
});

test('SQLite: a file that cannot be opened gives UNAVAILABLE', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(SqliteCatalog.open(path.join(dir, 'no-such-dir', 'catalog.db')), isCatalogError(CatalogErrorCode.UNAVAILABLE, 'no-such-dir'));
});

test('SQLite: listFiles by event time and by partition uses the indexes, not a scan of every file', async (t) => {
  const file = path.join(await tempDir(t), 'catalog.db');
  const store = await openFile(t, file);
  await store.migrate();
  const db = new DatabaseSync(file, { readOnly: true });
  t.after(() => db.close());
  const plan = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => String(r.detail)).join('\n');
  const byTime = plan('SELECT path FROM catalog_files WHERE table_id = 1 AND (event_time_min IS NULL OR (event_time_min <= 5 AND event_time_max >= 3))');
  assert.match(byTime, /catalog_files_by_event_time/, byTime);
  assert.doesNotMatch(byTime, /SCAN catalog_files(?! USING)/, byTime);
  const byPartition = plan("SELECT path FROM catalog_files WHERE table_id = 1 AND partition_location IN ('a/', 'b/')");
  assert.match(byPartition, /catalog_files_by_partition/, byPartition);
});
