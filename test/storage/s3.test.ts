// The ObjectStore contract against a real S3 HTTP server (s3rver), plus what happens when that server goes away.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import S3rver from 's3rver';
import { openObjectStore, StorageError, StorageErrorCode, type ObjectInfo, type ObjectStore } from '../../src/storage/index.ts';
import { objectStoreContract, type StoreFactoryOptions } from './contract.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const BUCKET = 'lake';

type RunningServer = { server: S3rver; port: number; directory: string };

async function startServer(directory: string, port = 0): Promise<RunningServer> {
  const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, configureBuckets: [{ name: BUCKET }] });
  const address = await server.run();
  return { server, port: address.port, directory };
}

let shared: Promise<RunningServer> | undefined;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function sharedServer(): Promise<RunningServer> {
  shared ??= (async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'oxbow-s3rver-'));
    const running = await startServer(directory);
    cleanups.push(() => rm(directory, { recursive: true, force: true }), () => running.server.close());
    return running;
  })();
  return shared;
}

function storeUrl(port: number, prefix: string): string {
  return `s3://${BUCKET}/${prefix}?endpoint=http://127.0.0.1:${port}&region=us-east-1&forcePathStyle=true`;
}

objectStoreContract({
  name: 's3 (s3rver)',
  open: async (t: TestContext, options: StoreFactoryOptions = {}) => {
    const { port } = await sharedServer();
    // Each test gets its own prefix in the shared bucket, so tests do not see each other's objects.
    const store = await openObjectStore(storeUrl(port, `t-${randomBytes(4).toString('hex')}/`), { credentials, ...options });
    t.after(() => store.close());
    return store;
  },
  plantLeftover: { skip: 's3rver does not implement ListMultipartUploads, so an unfinished upload cannot be found or aborted there' },
  atomicServer: {
    skip: 's3rver writes an object in place on its disk, so a lister can see it growing; AWS S3, MinIO and Ceph show a PUT only when complete',
  },
  multipart: true,
});

test('s3 URL: credentials come from the environment, and url hides them', async () => {
  const store = await openObjectStore('s3://bucket/some/prefix?region=eu-west-1', {
    env: { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
  });
  assert.equal(store.url, 's3://bucket/some/prefix/?region=eu-west-1');
  await store.close();
});

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('a stopped server makes put fail as retryable UNAVAILABLE; after a restart the retry lands exactly once', async (t) => {
  const directory = await mkdtemp(path.join(tmpdir(), 'oxbow-s3rver-restart-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  let running = await startServer(directory);
  let stopped = false;
  t.after(async () => {
    if (!stopped) await running.server.close();
  });
  const store: ObjectStore = await openObjectStore(storeUrl(running.port, 'golden/'), { credentials, maxAttempts: 1, requestTimeoutMs: 5_000 });
  t.after(() => store.close());
  await store.put('before', Buffer.from('ok'));

  await running.server.close();
  stopped = true;
  const body = randomBytes(1000);
  const failure = await store.put('orders/o+0+0+9.snappy.parquet', body).then(
    () => assert.fail('put succeeded with the server stopped'),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof StorageError, String(failure));
  assert.equal(failure.code, StorageErrorCode.UNAVAILABLE);
  assert.equal(failure.retryable, true);
  assert.match(failure.message, /orders\/o\+0\+0\+9/);

  running = await startServer(directory, running.port);
  stopped = false;
  // Bounded retry, as the sink does it: a few attempts while the server comes back.
  let result;
  for (let attempt = 0; attempt < 5 && result === undefined; attempt++) {
    result = await store.put('orders/o+0+0+9.snappy.parquet', body).catch((e: unknown) => {
      if (e instanceof StorageError && e.retryable) return undefined;
      throw e;
    });
  }
  assert.equal(result?.size, 1000);
  assert.deepEqual(await store.get('orders/o+0+0+9.snappy.parquet'), body);
  assert.deepEqual((await collect(store.list(''))).map((o) => o.key), ['before', 'orders/o+0+0+9.snappy.parquet']);
});
