// The sink on S3-compatible storage (a real S3 HTTP server, s3rver): the server goes away in the middle of writing,
// the sink retries and stops reading, and once the server is back the lake holds every record exactly once.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import S3rver from 's3rver';
import { parseDataFileName } from '../../src/sink/index.ts';
import { openObjectStore } from '../../src/storage/index.ts';
import { defer, tempDir } from '../helpers/broker.ts';
import { order, queryLake, sinkEnv, startSink, until } from './helpers.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function startS3(directory: string, port = 0): Promise<{ server: S3rver; port: number }> {
  const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, configureBuckets: [{ name: 'lake' }] });
  const address = await server.run();
  return { server, port: address.port };
}

test('an S3 outage in the middle of writing loses and duplicates nothing', { timeout: 120_000 }, async (t) => {
  const env = await sinkEnv(t, { partitions: 2 });
  const s3dir = await tempDir(t, 'oxbow-s3-');
  let s3 = await startS3(s3dir);
  let up = true;
  defer(t, async () => {
    if (up) await s3.server.close();
  });
  const url = `s3://lake/warehouse/?endpoint=http://127.0.0.1:${s3.port}&region=us-east-1&forcePathStyle=true`;
  const store = await openObjectStore(url, { credentials, maxAttempts: 1, requestTimeoutMs: 2000 });
  defer(t, () => store.close());
  const logs: string[] = [];
  const sink = await startSink(t, { ...env, store }, { rotation: { flushSize: 100, rotateScheduleIntervalMs: 200 }, maxBufferedBytes: 64 * 1024 }, logs);

  const send = async (from: number, count: number) => {
    for (let p = 0; p < 2; p++) await env.send(Array.from({ length: count }, (_, i) => order(from + p * count + i, `2026-11-22T0${(from + i) % 3}:15:00Z`, p)), p);
  };
  await send(0, 500);
  await until(() => sink.counters.rowsCommitted >= 300, 30_000, () => JSON.stringify(sink.counters));

  // The server goes away while records keep arriving.
  await s3.server.close();
  up = false;
  await send(1000, 1500);
  await until(() => logs.some((l) => /committing offsets .* failed/.test(l)), 30_000, () => logs.join('\n'));
  const committedDuringOutage = sink.counters.rowsCommitted;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(sink.counters.rowsCommitted, committedDuringOutage, 'nothing is committed while storage is down');
  assert.ok(sink.bufferedBytes <= 64 * 1024 + 8 * 1024 ** 2, `reading stops near the buffer limit (${sink.bufferedBytes} bytes held)`);

  s3 = await startS3(s3dir, s3.port);
  up = true;
  const total = 2 * 500 + 2 * 1500;
  await until(() => sink.counters.rowsCommitted === total, 60_000, () => `${sink.counters.rowsCommitted} of ${total}\n${logs.slice(-5).join('\n')}`);
  assert.ok(sink.counters.retries > 0);

  // Read the lake back from S3.
  const local = await tempDir(t, 'oxbow-s3-copy-');
  let files = 0;
  for await (const object of store.list('golden/')) {
    assert.ok(parseDataFileName(object.key) !== null, object.key);
    await mkdir(path.dirname(path.join(local, object.key)), { recursive: true });
    await store.download(object.key, path.join(local, object.key));
    files++;
  }
  assert.ok(files > 0);
  const [r] = await queryLake(local, 'SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT (_source_partition, _source_offset)) AS lineage FROM lake');
  assert.deepEqual([Number(r!.n), Number(r!.ids), Number(r!.lineage)], [total, total, total]);
});
