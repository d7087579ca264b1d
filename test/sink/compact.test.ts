// Compaction, replay supersession and schema evolution, each checked by reading the lake as a reader does
// (visible files, current rows) against what was produced: every record exactly once, nothing lost.
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import S3rver from 's3rver';
import { compactTable, currentRowsSql, listDataFiles, listingPrefix, visibleFiles } from '../../src/sink/index.ts';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.ts';
import { OXBOW_BIN, run, tempDir } from '../helpers/broker.ts';
import { oxbow } from '../stream/oxbow-cli.ts';
import { dataset, order, ordersSchema, queryLake, sinkEnv, startSink, until } from './helpers.ts';

const TOPIC = 'orders.processed';
const PREFIX = listingPrefix('golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/', TOPIC);

/** The current rows of the table, as a reader of the lake sees them. */
async function currentRows(store: ObjectStore & { root: string }, select: string, orderBy = '', topic = TOPIC): Promise<Record<string, unknown>[]> {
  const { visible } = visibleFiles(await listDataFiles(store, topic, listingPrefix('golden/{topic}/', topic)));
  if (visible.length === 0) return [];
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const c = await instance.connect();
    const rows = (await c.runAndReadAll(`SELECT ${select} FROM (${currentRowsSql(visible.map((f) => path.join(store.root, f.key)))}) ${orderBy}`)).getRowObjectsJson();
    c.closeSync();
    return rows as Record<string, unknown>[];
  } finally {
    instance.closeSync();
  }
}

const SUMMARY = `count(*)::INTEGER AS n, count(DISTINCT (_source_partition, _source_offset))::INTEGER AS lineage, sum(id)::BIGINT::VARCHAR AS ids, sum(big)::VARCHAR AS big`;

test('compaction merges small files into few; readers see each record once before, during and after; the sink goes on exactly once', async (t) => {
  const env = await sinkEnv(t, { partitions: 2 });
  const store = env.store as ObjectStore & { root: string };
  const hours = ['2026-11-22T03:10:00Z', '2026-11-22T04:20:00Z', '2026-11-22T05:30:00Z'];
  const first = await startSink(t, env, { rotation: { flushSize: 10, rotateScheduleIntervalMs: 200 } });
  for (let p = 0; p < 2; p++) await env.send(Array.from({ length: 150 }, (_, i) => order(p * 150 + i, hours[Math.floor(i / 50)]!, p)), p);
  await until(() => first.counters.rowsCommitted === 300, 20_000, () => JSON.stringify(first.counters));
  await first.close();
  const before = await currentRows(store, SUMMARY);
  const filesBefore = await listDataFiles(store, TOPIC, PREFIX);
  assert.ok(filesBefore.length >= 30, `${filesBefore.length} small files`);

  // Through the CLI, as a user runs it.
  const dir = await tempDir(t);
  const config = path.join(dir, 'oxbow.config.ts');
  await writeFile(config, `export default ${JSON.stringify({ storage: { url: env.root }, datasets: { orders: { schema: ordersSchema, eventTimeField: 'ts' } } })};\n`);
  const backup = path.join(dir, 'backup');
  await cp(env.root, backup, { recursive: true });
  const out = await run(process.execPath, [OXBOW_BIN, 'lake', 'compact', 'orders', '--config', config, '--min-age', '0', '--target-size', '1MiB']);
  assert.match(out.stdout.toString(), /^orders\.processed: merged \d+ file\(s\) into \d+\n$/);
  const filesAfter = await listDataFiles(store, TOPIC, PREFIX);
  // Per hour and Kafka partition one merged file, plus the files of each partition's newest unit, left alone.
  assert.ok(filesAfter.length <= 3 * 2 + 2 * 3, `${filesAfter.length} files after compaction`);
  assert.deepEqual(await currentRows(store, SUMMARY), before);
  assert.deepEqual(visibleFiles(filesAfter).superseded, []);

  // A compaction that stopped after making the merged file visible and before deleting the old ones: readers skip
  // the old ones, and the next compaction deletes them.
  await cp(backup, env.root, { recursive: true, force: false, errorOnExist: false });
  const interrupted = await listDataFiles(store, TOPIC, PREFIX);
  assert.equal(interrupted.length, filesAfter.length + filesBefore.length - filesAfter.filter((f) => filesBefore.some((b) => b.key === f.key)).length);
  assert.deepEqual(await currentRows(store, SUMMARY), before, 'old and merged files together: each record once');
  const lsJson = JSON.parse((await run(process.execPath, [OXBOW_BIN, 'lake', 'ls', 'orders', '--config', config, '--format', 'json'])).stdout.toString()) as { partitions: { rows: number }[] };
  assert.equal(lsJson.partitions.reduce((n, p) => n + p.rows, 0), 300);
  const again = await compactTable(store, { topic: TOPIC, prefix: PREFIX, targetBytes: 1024 ** 2, minAgeMs: 0 });
  assert.ok(again.removedSuperseded.length > 0);
  assert.equal(again.merged.length, 0);
  assert.deepEqual((await listDataFiles(store, TOPIC, PREFIX)).map((f) => f.key), filesAfter.map((f) => f.key));

  // The sink restarts on the compacted lake and goes on: nothing twice, nothing lost.
  const second = await startSink(t, env, { rotation: { flushSize: 10, rotateScheduleIntervalMs: 200 } });
  for (let p = 0; p < 2; p++) await env.send(Array.from({ length: 40 }, (_, i) => order(300 + p * 40 + i, hours[2]!, p)), p);
  await until(() => second.counters.rowsCommitted === 80, 20_000, () => JSON.stringify(second.counters));
  const [total] = await currentRows(store, 'count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, min(id)::INTEGER AS lo, max(id)::INTEGER AS hi');
  assert.deepEqual(total, { n: 380, ids: 380, lo: 0, hi: 379 });
});

test('a partition still being written is left alone unless --min-age allows it; a bad --partition is refused', async (t) => {
  const env = await sinkEnv(t);
  const sink = await startSink(t, env, { rotation: { flushSize: 5 } });
  await env.send(Array.from({ length: 30 }, (_, i) => order(i, '2026-11-22T05:00:00Z')));
  await until(() => sink.counters.rowsCommitted === 30, 20_000);
  const result = await compactTable(env.store, { topic: TOPIC, prefix: PREFIX, targetBytes: 1024 ** 2, minAgeMs: 60_000 });
  assert.deepEqual(result.skippedOpen, ['golden/orders.processed/2026/11/22/05/']);
  assert.equal(result.merged.length, 0);
  const dir = await tempDir(t);
  const config = path.join(dir, 'oxbow.config.ts');
  await writeFile(config, `export default ${JSON.stringify({ storage: { url: env.root } })};\n`);
  const bad = await oxbow(['lake', 'compact', 'orders', '--config', config, '--partition', 'golden/other/2026/']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^oxbow lake: --partition: "golden\/other\/2026\/" is not a partition of orders\.processed; its paths start with golden\/orders\.processed\/ \[OXBOW_CLI_USAGE\]/);
});

test('replay: a raw record processed again supersedes its earlier output; readers see each raw record once, newest processing', async (t) => {
  const ds = dataset('orders', {
    schema: { type: 'object', properties: { id: { type: 'integer' }, version: { type: 'integer' }, ts: { type: 'string', format: 'date-time' } }, required: ['id', 'ts'] },
    eventTimeField: 'ts',
  });
  const env = await sinkEnv(t, { ds });
  const store = env.store as ObjectStore & { root: string };
  const processed = (raw: number, version: number) => `{"id":${raw},"version":${version},"ts":"2026-11-22T05:00:00Z","_source":{"topic":"orders.raw","partition":0,"offset":${raw}}}`;
  const sink = await startSink(t, env, { rotation: { flushSize: 25, rotateScheduleIntervalMs: 200 } });
  await env.send(Array.from({ length: 100 }, (_, i) => processed(i, 1)));
  await until(() => sink.counters.rowsCommitted === 100, 20_000);
  // The stream job replays raw offsets 20–59 with new logic, and then again 50–54.
  await env.send(Array.from({ length: 40 }, (_, i) => processed(20 + i, 2)));
  await env.send(Array.from({ length: 5 }, (_, i) => processed(50 + i, 3)));
  await until(() => sink.counters.rowsCommitted === 145, 20_000);
  const versions = async () =>
    (await currentRows(store, 'id::INTEGER AS id, version::INTEGER AS version', 'ORDER BY id')).map((r) => [r.id, r.version]);
  const expected = Array.from({ length: 100 }, (_, i) => [i, i >= 50 && i < 55 ? 3 : i >= 20 && i < 60 ? 2 : 1]);
  assert.deepEqual(await versions(), expected);
  // Compaction keeps the newest processing on top.
  await sink.close();
  await compactTable(store, { topic: TOPIC, prefix: PREFIX, targetBytes: 1024 ** 2, minAgeMs: 0 });
  assert.deepEqual(await versions(), expected);
});

test('schema evolution: a new optional field becomes a column of new files; old files read as null for it, also after compaction', async (t) => {
  const v1 = dataset('orders', { schema: { type: 'object', properties: { id: { type: 'integer' }, ts: { type: 'string', format: 'date-time' } }, required: ['id', 'ts'] }, eventTimeField: 'ts' });
  const env = await sinkEnv(t, { ds: v1 });
  const store = env.store as ObjectStore & { root: string };
  const line = (i: number, coupon?: string) => `{"id":${i},"ts":"2026-11-22T05:00:00Z",${coupon === undefined ? '' : `"coupon":"${coupon}",`}"_source":{"topic":"orders.raw","partition":0,"offset":${i}}}`;
  const old = await startSink(t, env, { rotation: { flushSize: 1000 } });
  await env.send(Array.from({ length: 10 }, (_, i) => line(i)));
  await until(() => old.counters.recordsIn === 10, 20_000);
  await old.close();
  const v2 = dataset('orders', {
    schema: { type: 'object', properties: { id: { type: 'integer' }, ts: { type: 'string', format: 'date-time' }, coupon: { type: 'string' } }, required: ['id', 'ts'] },
    eventTimeField: 'ts',
  });
  const next = await startSink(t, { ...env, ds: v2 }, { rotation: { flushSize: 1000 } });
  await env.send(Array.from({ length: 10 }, (_, i) => line(10 + i, `C${i}`)));
  await until(() => next.counters.recordsIn === 10, 20_000);
  await next.close();
  const read = async () => (await currentRows(store, 'id::INTEGER AS id, coupon', 'ORDER BY id')).map((r) => [r.id, r.coupon]);
  const expected = [...Array.from({ length: 10 }, (_, i) => [i, null]), ...Array.from({ length: 10 }, (_, i) => [10 + i, `C${i}`])];
  assert.deepEqual(await read(), expected);
  const result = await compactTable(store, { topic: TOPIC, prefix: PREFIX, targetBytes: 1024 ** 2, minAgeMs: 0 });
  assert.equal(result.merged.length, 0, 'the newest unit is never compacted: two files, the second is the newest');
  assert.deepEqual(await read(), expected);
});

test('compaction on S3-compatible storage: small files merged, every record still once', async (t) => {
  const directory = await tempDir(t, 'oxbow-compact-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: 'lake' }] });
  const { port } = await server.run();
  t.after(() => server.close());
  const store = await openObjectStore(`s3://lake/warehouse/?endpoint=http://127.0.0.1:${port}&region=us-east-1&forcePathStyle=true`, {
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  t.after(() => store.close());
  const env = await sinkEnv(t);
  const sink = await startSink(t, { ...env, store }, { rotation: { flushSize: 10, rotateScheduleIntervalMs: 200 } });
  await env.send(Array.from({ length: 95 }, (_, i) => order(i, '2026-11-22T05:00:00Z')));
  await until(() => sink.counters.rowsCommitted === 95, 20_000, () => JSON.stringify(sink.counters));
  await sink.close();
  const before = await listDataFiles(store, TOPIC, PREFIX);
  const result = await compactTable(store, { topic: TOPIC, prefix: PREFIX, targetBytes: 1024 ** 2, minAgeMs: 0, workDir: await tempDir(t) });
  const after = await listDataFiles(store, TOPIC, PREFIX);
  assert.ok(result.merged.length === 1 && after.length < before.length, `${before.length} files before, ${after.length} after`);
  // Read back what a reader sees: the visible files, downloaded.
  const local = await tempDir(t, 'oxbow-compact-s3-copy-');
  for (const f of visibleFiles(after).visible) {
    await mkdir(path.dirname(path.join(local, f.key)), { recursive: true });
    await store.download(f.key, path.join(local, f.key));
  }
  const [r] = await queryLake(local, 'SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM lake');
  assert.deepEqual([Number(r!.n), Number(r!.ids), Number(r!.lo), Number(r!.hi)], [95, 95, 0, 94]);
});
