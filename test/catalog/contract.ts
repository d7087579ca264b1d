// The CatalogStore contract: the same tests, registered for each backend by sqlite.test.ts and postgres.test.ts.
import assert from 'node:assert/strict';
import { suite, test, type TestContext } from 'node:test';
import {
  CatalogError,
  CatalogErrorCode,
  MIGRATIONS,
  SqlCatalog,
  type CatalogColumn,
  type CatalogFile,
  type CatalogStore,
  type TableInput,
} from '../../src/catalog/index.ts';

/** A fresh, empty, not yet migrated store; the factory registers its own cleanup on `t`. */
export type CatalogFactory = (t: TestContext) => Promise<CatalogStore>;

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);

export function isCatalogError(code: CatalogErrorCode, messageIncludes?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CatalogError, `expected a CatalogError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (messageIncludes !== undefined) assert.ok(e.message.includes(messageIncludes), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(messageIncludes)}`);
    return true;
  };
}

function orders(overrides: Partial<TableInput> = {}): TableInput {
  return {
    namespace: 'lake',
    name: 'orders',
    location: 'golden/orders.processed/',
    format: 'parquet',
    partitionKeys: ['country', 'hour'],
    eventTimeColumn: 'ts',
    owner: 'team-orders',
    tags: { classification: 'internal' },
    ...overrides,
  };
}

const COLUMNS: CatalogColumn[] = [
  { name: 'id', type: 'BIGINT', nullable: false },
  { name: 'amount', type: 'DOUBLE', nullable: true },
  { name: 'ts', type: 'TIMESTAMP WITH TIME ZONE', nullable: false },
];

function partitionOf(country: string, hour: number): string {
  return `golden/orders.processed/country=${country}/${String(hour).padStart(2, '0')}/`;
}

function file(country: string, hour: number, n: number, extra: Partial<CatalogFile> = {}): CatalogFile {
  const start = T0 + hour * HOUR_MS;
  return {
    path: `${partitionOf(country, hour)}part-${n}.parquet`,
    partition: partitionOf(country, hour),
    size: 1000 + n,
    rows: 10 + n,
    eventTimeMin: start + n,
    eventTimeMax: start + HOUR_MS - 1 - n,
    columnStats: [{ column: 'id', min: String(n), max: String(n + 9), nullCount: 0 }],
    committedAt: new Date(T0 + 2 * 24 * HOUR_MS),
    ...extra,
  };
}

function valuesOf(files: readonly CatalogFile[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const f of files) {
    const m = /country=([^/]*)\/(\d+)\/$/.exec(f.partition);
    assert.ok(m, f.partition);
    out[f.partition] = { country: m[1]!, hour: m[2]! };
  }
  return out;
}

function paths(files: readonly CatalogFile[]): string[] {
  return files.map((f) => f.path).sort();
}

export function catalogContract(name: string, open: CatalogFactory): void {
  async function ready(t: TestContext): Promise<CatalogStore> {
    const store = await open(t);
    await store.migrate();
    return store;
  }

  async function withOrders(t: TestContext): Promise<CatalogStore> {
    const store = await ready(t);
    await store.upsertTable(orders(), COLUMNS);
    return store;
  }

  suite(`CatalogStore contract: ${name}`, () => {
    test('migrate twice is a no-op, and the store works after it', async (t) => {
      const store = await open(t);
      await store.migrate();
      await store.migrate();
      await store.createNamespace('lake');
      assert.deepEqual(await store.listNamespaces(), ['lake']);
    });

    test('a failed migration step is rolled back and reported as MIGRATION_FAILED', async (t) => {
      const store = await open(t);
      assert.ok(store instanceof SqlCatalog);
      await store.migrate();
      const next = MIGRATIONS.length + 1;
      const broken = { version: next, description: 'a step that fails half way', statements: ['CREATE TABLE test_half_done (x INTEGER)', 'SELECT * FROM no_such_table'] };
      await assert.rejects(store.migrate([...MIGRATIONS, broken]), isCatalogError(CatalogErrorCode.MIGRATION_FAILED, `migration ${next} (a step that fails half way)`));
      // Had the first statement stayed, creating the table again would fail.
      await store.migrate([...MIGRATIONS, { version: next, description: 'the fixed step', statements: ['CREATE TABLE test_half_done (x INTEGER)'] }]);
    });

    test('a catalog with a version this code does not know is refused (NEWER_SCHEMA)', async (t) => {
      const store = await open(t);
      assert.ok(store instanceof SqlCatalog);
      await store.migrate([...MIGRATIONS, { version: 99, description: 'from the future', statements: ['CREATE TABLE test_future (x INTEGER)'] }]);
      await assert.rejects(store.migrate(), isCatalogError(CatalogErrorCode.NEWER_SCHEMA, 'schema version 99'));
    });

    test('a store used before migrate() fails loudly', async (t) => {
      const store = await open(t);
      await assert.rejects(store.listNamespaces(), /call migrate\(\) before using the catalog/);
    });

    test('namespaces: created once however often asked, listed in order', async (t) => {
      const store = await ready(t);
      assert.deepEqual(await store.listNamespaces(), []);
      await store.createNamespace('lake');
      await store.createNamespace('bronze-zone.v2');
      await store.createNamespace('lake');
      assert.deepEqual(await store.listNamespaces(), ['bronze-zone.v2', 'lake']);
    });

    test('upsert, get, list and drop a table', async (t) => {
      const store = await ready(t);
      assert.equal(await store.getTable('lake', 'orders'), null);
      const created = await store.upsertTable(orders(), COLUMNS);
      assert.deepEqual({ ...created, createdAt: undefined, updatedAt: undefined }, { ...orders(), schemaVersion: 1, filesVersion: 0, createdAt: undefined, updatedAt: undefined });
      assert.ok(created.createdAt instanceof Date && created.updatedAt.getTime() === created.createdAt.getTime());
      assert.deepEqual(await store.getTable('lake', 'orders'), created);
      assert.deepEqual(await store.listNamespaces(), ['lake'], 'upsertTable creates its namespace');
      await store.upsertTable(orders({ name: 'customers', location: 'golden/customers/', partitionKeys: [], eventTimeColumn: null, owner: null, tags: {} }), COLUMNS);
      await store.upsertTable(orders({ namespace: 'archive', location: 'archive/orders/' }), COLUMNS);
      assert.deepEqual((await store.listTables('lake')).map((x) => x.name), ['customers', 'orders']);
      assert.deepEqual((await store.listTables()).map((x) => `${x.namespace}.${x.name}`), ['archive.orders', 'lake.customers', 'lake.orders']);
      assert.deepEqual(await store.listTables('nothing-here'), []);
      assert.deepEqual((await store.schemaVersions('lake', 'orders')).map((v) => [v.version, v.columns]), [[1, COLUMNS]]);

      await store.addFiles('lake', 'orders', [file('DE', 1, 1)], valuesOf([file('DE', 1, 1)]));
      await store.dropTable('lake', 'orders');
      assert.equal(await store.getTable('lake', 'orders'), null);
      assert.deepEqual((await store.listTables()).map((x) => `${x.namespace}.${x.name}`), ['archive.orders', 'lake.customers']);
      await assert.rejects(store.dropTable('lake', 'orders'), isCatalogError(CatalogErrorCode.TABLE_NOT_FOUND, 'lake.orders'));
      // Its files, partitions and schema versions went with it.
      await store.upsertTable(orders(), [COLUMNS[0]!]);
      assert.equal((await store.listPaths('lake', 'orders')).size, 0);
      assert.deepEqual(await store.listPartitions('lake', 'orders'), []);
      assert.deepEqual((await store.schemaVersions('lake', 'orders')).map((v) => [v.version, v.columns]), [[1, [COLUMNS[0]]]]);
    });

    test('updating attributes keeps the schema; upserting the same table again changes nothing', async (t) => {
      const store = await withOrders(t);
      const before = await store.getTable('lake', 'orders');
      assert.deepEqual(await store.upsertTable(orders(), COLUMNS), before);
      const changed = await store.upsertTable(orders({ owner: 'team-finance', tags: { classification: 'pii', tier: 'gold' }, partitionKeys: ['hour'] }), [{ name: 'other', type: 'INTEGER', nullable: true }]);
      assert.equal(changed.owner, 'team-finance');
      assert.deepEqual(changed.tags, { classification: 'pii', tier: 'gold' });
      assert.deepEqual(changed.partitionKeys, ['hour']);
      assert.equal(changed.schemaVersion, 1);
      assert.ok(changed.updatedAt.getTime() >= before!.updatedAt.getTime());
      assert.equal(changed.createdAt.getTime(), before!.createdAt.getTime());
      assert.deepEqual((await store.schemaVersions('lake', 'orders')).map((v) => v.columns), [COLUMNS]);
    });

    test('a table that exists with another location is refused (TABLE_EXISTS_DIFFERENT)', async (t) => {
      const store = await withOrders(t);
      await assert.rejects(
        store.upsertTable(orders({ location: 'golden/elsewhere/', owner: 'someone-else' }), COLUMNS),
        isCatalogError(CatalogErrorCode.TABLE_EXISTS_DIFFERENT, 'table lake.orders already exists with location "golden/orders.processed/", not "golden/elsewhere/"'),
      );
      assert.equal((await store.getTable('lake', 'orders'))?.owner, 'team-orders', 'nothing changed');
    });

    test('schema evolution: the same columns keep the version; new nullable columns make the next one', async (t) => {
      const store = await withOrders(t);
      const same = await store.evolveSchema('lake', 'orders', [...COLUMNS].reverse());
      assert.equal(same.version, 1);
      assert.deepEqual(same.columns, COLUMNS);
      const note = { name: 'note', type: 'VARCHAR', nullable: true };
      const v2 = await store.evolveSchema('lake', 'orders', [note, ...COLUMNS]);
      assert.equal(v2.version, 2);
      assert.deepEqual(v2.columns, [...COLUMNS, note], 'new columns are appended after the existing ones');
      assert.equal((await store.evolveSchema('lake', 'orders', [...COLUMNS, note])).version, 2);
      assert.equal((await store.getTable('lake', 'orders'))?.schemaVersion, 2);
      const versions = await store.schemaVersions('lake', 'orders');
      assert.deepEqual(versions.map((v) => [v.version, v.columns]), [[1, COLUMNS], [2, [...COLUMNS, note]]]);
      assert.ok(versions.every((v) => v.createdAt instanceof Date));
      // Type names compare without regard to case, as DuckDB reads them.
      assert.equal((await store.evolveSchema('lake', 'orders', [...COLUMNS.map((c) => ({ ...c, type: c.type.toLowerCase() })), note])).version, 2);
      // A column that was required may become nullable: every file written so far still fits.
      const relaxed = await store.evolveSchema('lake', 'orders', [{ ...COLUMNS[0]!, nullable: true }, ...COLUMNS.slice(1), note]);
      assert.equal(relaxed.version, 3);
      assert.deepEqual(relaxed.columns[0], { name: 'id', type: 'BIGINT', nullable: true });
    });

    test('schema evolution refuses a changed type, a removed column and a new non-nullable column, by name', async (t) => {
      const store = await withOrders(t);
      const cases: [CatalogColumn[], string, string, string][] = [
        [[COLUMNS[0]!, { name: 'amount', type: 'VARCHAR', nullable: true }, COLUMNS[2]!], 'amount', 'type-changed', 'table lake.orders: column "amount" changes type from DOUBLE to VARCHAR; only new nullable columns can be added'],
        [[COLUMNS[0]!, COLUMNS[2]!], 'amount', 'removed', 'table lake.orders: column "amount" (DOUBLE) is removed; only new nullable columns can be added'],
        [[...COLUMNS, { name: 'region', type: 'VARCHAR', nullable: false }], 'region', 'new-not-nullable', 'table lake.orders: new column "region" (VARCHAR) is not nullable; only new nullable columns can be added'],
        [[COLUMNS[0]!, { name: 'amount', type: 'DOUBLE', nullable: false }, COLUMNS[2]!], 'amount', 'became-not-nullable', 'table lake.orders: column "amount" becomes not nullable; only new nullable columns can be added'],
      ];
      for (const [columns, column, reason, message] of cases) {
        await assert.rejects(store.evolveSchema('lake', 'orders', columns), (e: unknown) => {
          assert.ok(e instanceof CatalogError && e.code === CatalogErrorCode.INCOMPATIBLE_SCHEMA, String(e));
          assert.equal(e.message, message);
          assert.equal(e.fields.column, column);
          assert.equal(e.fields.reason, reason);
          assert.equal(e.retryable, false);
          return true;
        });
      }
      assert.equal((await store.getTable('lake', 'orders'))?.schemaVersion, 1);
      assert.equal((await store.schemaVersions('lake', 'orders')).length, 1);
      await assert.rejects(store.evolveSchema('lake', 'nope', COLUMNS), isCatalogError(CatalogErrorCode.TABLE_NOT_FOUND, 'lake.nope'));
      await assert.rejects(store.evolveSchema('lake', 'orders', [...COLUMNS, COLUMNS[0]!]), isCatalogError(CatalogErrorCode.INCOMPATIBLE_SCHEMA, 'table lake.orders: column "id" appears twice'));
      await assert.rejects(store.upsertTable(orders({ name: 'twice' }), [COLUMNS[1]!, COLUMNS[1]!]), isCatalogError(CatalogErrorCode.INCOMPATIBLE_SCHEMA, 'column "amount" appears twice'));
      assert.equal(await store.getTable('lake', 'twice'), null);
    });

    test('added files make partitions with their totals: count, rows, bytes and event-time range', async (t) => {
      const store = await withOrders(t);
      const files = [file('DE', 1, 1), file('DE', 1, 2), file('FR', 1, 1), file('DE', 2, 1)];
      await store.addFiles('lake', 'orders', files, valuesOf(files));
      assert.deepEqual(await store.listPartitions('lake', 'orders'), [
        { location: partitionOf('DE', 1), values: { country: 'DE', hour: '01' }, fileCount: 2, rows: 23, bytes: 2003, eventTimeMin: T0 + HOUR_MS + 1, eventTimeMax: T0 + 2 * HOUR_MS - 2 },
        { location: partitionOf('DE', 2), values: { country: 'DE', hour: '02' }, fileCount: 1, rows: 11, bytes: 1001, eventTimeMin: T0 + 2 * HOUR_MS + 1, eventTimeMax: T0 + 3 * HOUR_MS - 2 },
        { location: partitionOf('FR', 1), values: { country: 'FR', hour: '01' }, fileCount: 1, rows: 11, bytes: 1001, eventTimeMin: T0 + HOUR_MS + 1, eventTimeMax: T0 + 2 * HOUR_MS - 2 },
      ]);
      assert.deepEqual(await store.listFiles('lake', 'orders'), [...files].sort((a, b) => (a.path < b.path ? -1 : 1)));
      assert.deepEqual([...(await store.listPaths('lake', 'orders'))].sort(), paths(files));
      // A later call adds to a partition it does not name the values of again.
      await store.addFiles('lake', 'orders', [file('DE', 1, 3, { eventTimeMin: null, eventTimeMax: null })], {});
      const de1 = (await store.listPartitions('lake', 'orders'))[0]!;
      assert.deepEqual([de1.fileCount, de1.rows, de1.bytes, de1.eventTimeMin, de1.eventTimeMax], [3, 36, 3006, T0 + HOUR_MS + 1, T0 + 2 * HOUR_MS - 2]);
      await store.addFiles('lake', 'orders', [], {});
      await assert.rejects(store.addFiles('lake', 'nope', files, valuesOf(files)), isCatalogError(CatalogErrorCode.TABLE_NOT_FOUND, 'lake.nope'));
    });

    test('a file added again with the same path replaces the first, even in another partition', async (t) => {
      const store = await withOrders(t);
      const first = [file('DE', 1, 1), file('DE', 1, 2)];
      await store.addFiles('lake', 'orders', first, valuesOf(first));
      const bigger = file('DE', 1, 1, { size: 5000, rows: 500, eventTimeMin: T0, eventTimeMax: T0 + 3 * HOUR_MS });
      await store.addFiles('lake', 'orders', [bigger], {});
      assert.deepEqual(await store.listPartitions('lake', 'orders'), [
        { location: partitionOf('DE', 1), values: { country: 'DE', hour: '01' }, fileCount: 2, rows: 512, bytes: 6002, eventTimeMin: T0, eventTimeMax: T0 + 3 * HOUR_MS },
      ]);
      assert.deepEqual((await store.listFiles('lake', 'orders')).find((f) => f.path === bigger.path), bigger);
      // The same path in another partition (a crawler that got it wrong first): the old partition loses it.
      const moved = { ...file('FR', 9, 1), path: first[1]!.path };
      await store.addFiles('lake', 'orders', [moved], valuesOf([moved]));
      assert.deepEqual((await store.listPartitions('lake', 'orders')).map((p) => [p.location, p.fileCount, p.rows]), [
        [partitionOf('DE', 1), 1, 500],
        [partitionOf('FR', 9), 1, 11],
      ]);
      // Within one call the last entry for a path wins.
      await store.addFiles('lake', 'orders', [file('DE', 1, 1), { ...file('DE', 1, 1), rows: 7 }], {});
      assert.equal((await store.listFiles('lake', 'orders')).find((f) => f.path === bigger.path)?.rows, 7);
      assert.equal((await store.listPaths('lake', 'orders')).size, 2);
    });

    test('removed files update their partitions, and a partition whose last file goes is removed', async (t) => {
      const store = await withOrders(t);
      const files = [file('DE', 1, 1), file('DE', 1, 2), file('FR', 1, 1)];
      await store.addFiles('lake', 'orders', files, valuesOf(files));
      await store.removeFiles('lake', 'orders', [files[1]!.path, 'golden/orders.processed/never/registered.parquet', files[2]!.path]);
      assert.deepEqual(await store.listPartitions('lake', 'orders'), [
        { location: partitionOf('DE', 1), values: { country: 'DE', hour: '01' }, fileCount: 1, rows: 11, bytes: 1001, eventTimeMin: files[0]!.eventTimeMin, eventTimeMax: files[0]!.eventTimeMax },
      ]);
      assert.deepEqual([...(await store.listPaths('lake', 'orders'))], [files[0]!.path]);
      // Every change to the files counts the table's files version up; removing nothing changes nothing.
      const version = (await store.getTable('lake', 'orders'))!.filesVersion;
      assert.equal(version, 2, 'one add and one remove');
      await store.removeFiles('lake', 'orders', []);
      await store.removeFiles('lake', 'orders', ['golden/orders.processed/never/registered.parquet']);
      assert.equal((await store.getTable('lake', 'orders'))!.filesVersion, version);
      await store.removeFiles('lake', 'orders', [files[0]!.path, files[0]!.path]);
      assert.equal((await store.getTable('lake', 'orders'))!.filesVersion, version + 1);
      assert.deepEqual(await store.listPartitions('lake', 'orders'), []);
      assert.deepEqual(await store.listFiles('lake', 'orders'), []);
      await assert.rejects(store.removeFiles('lake', 'nope', ['x']), isCatalogError(CatalogErrorCode.TABLE_NOT_FOUND, 'lake.nope'));
    });

    test('listFiles by event-time range: overlap with inclusive ends; files with no range always included', async (t) => {
      const store = await withOrders(t);
      const a = file('DE', 1, 0, { eventTimeMin: 1000, eventTimeMax: 2000 });
      const b = file('DE', 1, 1, { eventTimeMin: 3000, eventTimeMax: 4000 });
      const c = file('DE', 1, 2, { eventTimeMin: 1500, eventTimeMax: 3500 });
      const none = file('DE', 1, 3, { eventTimeMin: null, eventTimeMax: null });
      await store.addFiles('lake', 'orders', [a, b, c, none], valuesOf([a]));
      const between = async (fromMs?: number, toMs?: number) => {
        const range: { fromMs?: number; toMs?: number } = {};
        if (fromMs !== undefined) range.fromMs = fromMs;
        if (toMs !== undefined) range.toMs = toMs;
        return paths(await store.listFiles('lake', 'orders', { eventTime: range }));
      };
      assert.deepEqual(await between(2000, 3000), paths([a, b, c, none]), 'touching either end counts');
      assert.deepEqual(await between(2001, 2999), paths([c, none]));
      assert.deepEqual(await between(0, 999), paths([none]));
      assert.deepEqual(await between(4000, 4000), paths([b, none]));
      assert.deepEqual(await between(3501), paths([b, none]));
      assert.deepEqual(await between(undefined, 1499), paths([a, none]));
      assert.deepEqual(await between(), paths([a, b, c, none]));
    });

    test('listFiles by partition values: every key must match, a value list gives alternatives', async (t) => {
      const store = await withOrders(t);
      const files = [file('DE', 1, 1), file('DE', 2, 1), file('FR', 1, 1), file('IT', 3, 1)];
      await store.addFiles('lake', 'orders', files, valuesOf(files));
      const where = async (partitionValues: Record<string, readonly string[]>, eventTime?: { fromMs?: number; toMs?: number }) =>
        paths(await store.listFiles('lake', 'orders', eventTime === undefined ? { partitionValues } : { partitionValues, eventTime }));
      assert.deepEqual(await where({ country: ['DE'] }), paths([files[0]!, files[1]!]));
      assert.deepEqual(await where({ country: ['DE', 'IT'], hour: ['01', '03'] }), paths([files[0]!, files[3]!]));
      assert.deepEqual(await where({ hour: ['01'] }), paths([files[0]!, files[2]!]));
      assert.deepEqual(await where({ country: [] }), []);
      assert.deepEqual(await where({ region: ['eu'] }), [], 'a key no partition has matches nothing');
      assert.deepEqual(await where({ country: ['DE'] }, { fromMs: T0 + 2 * HOUR_MS }), paths([files[1]!]));
    });

    test('20,000 files in one call, and one hour of them found by event time', async (t) => {
      const store = await ready(t);
      await store.upsertTable(orders({ partitionKeys: ['hour'] }), COLUMNS);
      const hours = 24 * 7;
      const files: CatalogFile[] = [];
      const values: Record<string, Record<string, string>> = {};
      for (let i = 0; i < 20_000; i++) {
        const hour = i % hours;
        const partition = `golden/orders.processed/h=${hour}/`;
        values[partition] = { hour: String(hour) };
        const start = T0 + hour * HOUR_MS;
        files.push({
          path: `${partition}orders+0+${i}+${i + 99}.snappy.parquet`,
          partition,
          size: 4096 + i,
          rows: 100,
          eventTimeMin: start + (i % 1000),
          eventTimeMax: start + HOUR_MS - 1 - (i % 1000),
          columnStats: [
            { column: 'id', min: String(i * 100), max: String(i * 100 + 99), nullCount: 0 },
            { column: 'amount', min: '0.5', max: '99.5', nullCount: 3 },
          ],
          committedAt: new Date(start + HOUR_MS),
        });
      }
      let started = performance.now();
      await store.addFiles('lake', 'orders', files, values);
      const addMs = performance.now() - started;
      started = performance.now();
      const hour = 100;
      const found = await store.listFiles('lake', 'orders', { eventTime: { fromMs: T0 + hour * HOUR_MS, toMs: T0 + (hour + 1) * HOUR_MS - 1 } });
      const listHourMs = performance.now() - started;
      started = performance.now();
      const all = await store.listFiles('lake', 'orders');
      const listAllMs = performance.now() - started;
      t.diagnostic(`${name}: addFiles of 20,000 files ${addMs.toFixed(0)} ms; listFiles of one hour ${listHourMs.toFixed(1)} ms; listFiles of all ${listAllMs.toFixed(0)} ms`);
      const expected = files.filter((f) => f.partition === `golden/orders.processed/h=${hour}/`);
      assert.ok(expected.length > 100);
      assert.deepEqual(paths(found), paths(expected));
      assert.equal(all.length, 20_000);
      const partitions = await store.listPartitions('lake', 'orders');
      assert.equal(partitions.length, hours);
      assert.equal(partitions.reduce((n, p) => n + p.fileCount, 0), 20_000);
      assert.equal(partitions.reduce((n, p) => n + p.rows, 0), 2_000_000);
      assert.ok(addMs < 30_000, `20,000 files took ${addMs} ms`);
      assert.ok(listHourMs < 2_000, `one hour took ${listHourMs} ms`);
    });

    test('names outside letters, digits, "_", "." and "-" (1 to 128) are refused (BAD_NAME)', async (t) => {
      const store = await withOrders(t);
      for (const bad of ['', 'a b', 'a/b', "o'neil", 'x'.repeat(129), 'ünï', 'a;drop']) {
        await assert.rejects(store.createNamespace(bad), isCatalogError(CatalogErrorCode.BAD_NAME, JSON.stringify(bad)));
        await assert.rejects(store.upsertTable(orders({ name: bad }), COLUMNS), isCatalogError(CatalogErrorCode.BAD_NAME));
        await assert.rejects(store.upsertTable(orders({ namespace: bad }), COLUMNS), isCatalogError(CatalogErrorCode.BAD_NAME));
        await assert.rejects(store.getTable('lake', bad), isCatalogError(CatalogErrorCode.BAD_NAME));
        await assert.rejects(store.listFiles(bad, 'orders'), isCatalogError(CatalogErrorCode.BAD_NAME));
      }
      await store.createNamespace('x'.repeat(128));
      await store.upsertTable(orders({ name: 'A-z_0.9' }), COLUMNS);
      assert.deepEqual((await store.listTables('lake')).map((x) => x.name), ['A-z_0.9', 'orders']);
    });

    test('values with quotes and unicode survive the round trip', async (t) => {
      const store = await ready(t);
      const odd = `it's "quoted" \\ back; -- ünïcödé 😀 \u0000-free`;
      const columns = [
        { name: `col "q" 'x'`, type: 'VARCHAR', nullable: true },
        { name: 'größe', type: 'DOUBLE', nullable: true },
      ];
      const table = await store.upsertTable(
        { namespace: 'lake', name: 'odd', location: `golden/o'dd "t"/`, format: 'parquet', partitionKeys: ['land'], eventTimeColumn: 'größe', owner: `O'Brien "ops" 😀`, tags: { [`k'ey`]: odd, 'ключ': '値' } },
        columns,
      );
      assert.deepEqual(await store.getTable('lake', 'odd'), table);
      assert.equal(table.owner, `O'Brien "ops" 😀`);
      assert.deepEqual(table.tags, { [`k'ey`]: odd, 'ключ': '値' });
      assert.deepEqual((await store.schemaVersions('lake', 'odd'))[0]!.columns, columns);
      const partition = `golden/o'dd "t"/land=Côte d'Ivoire/`;
      const f: CatalogFile = {
        path: `${partition}f'ile "1" 😀.parquet`,
        partition,
        size: 1,
        rows: 1,
        eventTimeMin: null,
        eventTimeMax: null,
        columnStats: [{ column: `col "q" 'x'`, min: `a'b"c`, max: '😀', nullCount: null }],
        committedAt: new Date(T0),
      };
      await store.addFiles('lake', 'odd', [f], { [partition]: { land: `Côte d'Ivoire "CI"` } });
      assert.deepEqual(await store.listFiles('lake', 'odd', { partitionValues: { land: [`Côte d'Ivoire "CI"`] } }), [f]);
      assert.deepEqual((await store.listPartitions('lake', 'odd'))[0]!.values, { land: `Côte d'Ivoire "CI"` });
      assert.deepEqual(await store.listPaths('lake', 'odd'), new Set([f.path]));
      await store.removeFiles('lake', 'odd', [f.path]);
      assert.deepEqual(await store.listPartitions('lake', 'odd'), []);
    });

    test('calls at the same time on one store each see a consistent catalog', async (t) => {
      const store = await ready(t);
      await Promise.all(['a', 'b', 'c'].map((n) => store.upsertTable(orders({ name: n, location: `golden/${n}/` }), COLUMNS)));
      await Promise.all(
        ['a', 'b', 'c'].flatMap((n) =>
          [1, 2, 3, 4].map((hour) => {
            const fs = [file('DE', hour, 1), file('DE', hour, 2)];
            return store.addFiles('lake', n, fs, valuesOf(fs));
          }),
        ),
      );
      const results = await Promise.all(['a', 'b', 'c'].map((n) => Promise.all([store.listFiles('lake', n), store.listPartitions('lake', n)])));
      for (const [files, partitions] of results) {
        assert.equal(files.length, 8);
        assert.deepEqual(partitions.map((p) => p.fileCount), [2, 2, 2, 2]);
      }
    });

    test('a closed store refuses every call with CLOSED, and closing twice is fine', async (t) => {
      const store = await withOrders(t);
      await store.close();
      await store.close();
      const calls: [string, () => Promise<unknown>][] = [
        ['migrate', () => store.migrate()],
        ['listNamespaces', () => store.listNamespaces()],
        ['getTable', () => store.getTable('lake', 'orders')],
        ['addFiles', () => store.addFiles('lake', 'orders', [file('DE', 1, 1)], valuesOf([file('DE', 1, 1)]))],
        ['listFiles', () => store.listFiles('lake', 'orders')],
      ];
      for (const [what, call] of calls) {
        await assert.rejects(call(), isCatalogError(CatalogErrorCode.CLOSED, `catalog ${store.url} is closed`), what);
      }
    });

    test('calls on a table that does not exist give TABLE_NOT_FOUND; getTable gives null', async (t) => {
      const store = await ready(t);
      assert.equal(await store.getTable('lake', 'ghost'), null);
      for (const call of [
        () => store.schemaVersions('lake', 'ghost'),
        () => store.listFiles('lake', 'ghost'),
        () => store.listPaths('lake', 'ghost'),
        () => store.listPartitions('lake', 'ghost'),
        () => store.dropTable('lake', 'ghost'),
      ]) {
        await assert.rejects(call(), isCatalogError(CatalogErrorCode.TABLE_NOT_FOUND, 'table lake.ghost does not exist'));
      }
    });
  });
}
