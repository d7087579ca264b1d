// The ObjectStore contract: the same tests, registered for each backend by local.test.ts and s3.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite, test, type TestContext } from 'node:test';
import { StorageError, StorageErrorCode, TEMPORARY_PREFIX, type ObjectInfo, type ObjectStore } from '../../src/storage/index.ts';

export type StoreFactoryOptions = {
  /** Bodies above this use multipart (S3); the contract sets it small to exercise that path. */
  readonly multipartThresholdBytes?: number;
  readonly partSizeBytes?: number;
  readonly listPageSize?: number;
};

export type ContractTarget = {
  readonly name: string;
  /** A fresh, empty store; the factory registers its own cleanup on `t`. */
  readonly open: (t: TestContext, options?: StoreFactoryOptions) => Promise<ObjectStore>;
  /** Leave behind what an interrupted put leaves (a temp file, an unfinished upload) next to `key`; or a reason it cannot. */
  readonly plantLeftover: ((store: ObjectStore, key: string) => Promise<void>) | { readonly skip: string };
  /** Whether the server itself makes an object visible only once complete; or the reason it does not. */
  readonly atomicServer: true | { readonly skip: string };
  /** Whether put reports more than one part for a large body. */
  readonly multipart: boolean;
};

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((o) => o.key);
}

function isCode(code: StorageErrorCode) {
  return (e: unknown) => e instanceof StorageError && e.code === code;
}

export function objectStoreContract(target: ContractTarget): void {
  suite(`ObjectStore contract: ${target.name}`, () => {
    test('put then get returns the same bytes, and head the size', async (t) => {
      const store = await target.open(t);
      const body = randomBytes(10_000);
      const result = await store.put('golden/orders/2024/01/02/03/orders+0+0+9.snappy.parquet', body);
      assert.deepEqual(result, { key: 'golden/orders/2024/01/02/03/orders+0+0+9.snappy.parquet', size: 10_000, parts: 1 });
      assert.deepEqual(await store.get('golden/orders/2024/01/02/03/orders+0+0+9.snappy.parquet'), body);
      const head = await store.head('golden/orders/2024/01/02/03/orders+0+0+9.snappy.parquet');
      assert.equal(head?.size, 10_000);
      assert.ok(head.mtime instanceof Date && Math.abs(head.mtime.getTime() - Date.now()) < 60_000);
      await store.put('empty', Buffer.alloc(0));
      assert.equal((await store.get('empty')).length, 0);
    });

    test('put from a local file, and download to a local file', async (t) => {
      const store = await target.open(t);
      const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-storage-files-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const body = randomBytes(4096);
      await writeFile(path.join(dir, 'in.bin'), body);
      assert.equal((await store.put('a/file.bin', { path: path.join(dir, 'in.bin') })).size, 4096);
      await store.download('a/file.bin', path.join(dir, 'out.bin'));
      assert.deepEqual(await readFile(path.join(dir, 'out.bin')), body);
    });

    test('overwrite replaces the whole object', async (t) => {
      const store = await target.open(t);
      await store.put('k', Buffer.from('first version, rather long'));
      await store.put('k', Buffer.from('second'));
      assert.equal((await store.get('k')).toString(), 'second');
      assert.deepEqual(await keys(store, ''), ['k']);
    });

    test('a concurrent lister never sees a partial or temporary object', async (t) => {
      const store = await target.open(t);
      const size = 256 * 1024;
      let writing = true;
      const seen = new Set<string>();
      const lister = (async () => {
        for (let i = 0; i < 10_000 && writing; i++) {
          for (const o of await collect(store.list('atomic/'))) {
            assert.ok(!o.key.includes(TEMPORARY_PREFIX), `temporary object listed: ${o.key}`);
            if (target.atomicServer === true) assert.equal(o.size, size, `partial object listed: ${o.key}`);
            seen.add(o.key);
          }
        }
      })();
      try {
        for (let i = 0; i < 20; i++) {
          await store.put(`atomic/f${i % 5}`, Buffer.alloc(size, i));
          assert.equal((await store.get(`atomic/f${i % 5}`))[0], i);
        }
      } finally {
        writing = false;
        await lister;
      }
      assert.deepEqual(await keys(store, 'atomic/'), ['atomic/f0', 'atomic/f1', 'atomic/f2', 'atomic/f3', 'atomic/f4']);
      assert.ok(seen.size > 0);
      if (target.atomicServer !== true) t.diagnostic(`partial-size check skipped: ${target.atomicServer.skip}`);
    });

    test('list filters by prefix, in key order, across many pages', async (t) => {
      const store = await target.open(t, { listPageSize: 100 });
      const expected: string[] = [];
      const tasks: (() => Promise<unknown>)[] = [];
      for (let i = 0; i < 1100; i++) {
        const key = `many/${String(i).padStart(4, '0')}.json`;
        expected.push(key);
        tasks.push(() => store.put(key, Buffer.from(String(i))));
      }
      for (let i = 0; i < tasks.length; i += 50) await Promise.all(tasks.slice(i, i + 50).map((f) => f()));
      await store.put('many_more/x', Buffer.from('x'));
      await store.put('other/y', Buffer.from('y'));
      assert.deepEqual(await keys(store, 'many/'), expected);
      assert.deepEqual(await keys(store, 'many/10'), expected.filter((k) => k.startsWith('many/10')));
      // Keys come in UTF-8 byte order ('_' after '/'), the order S3 lists in and list pages resume from.
      assert.deepEqual(await keys(store, 'many'), [...expected, 'many_more/x']);
      assert.deepEqual(await keys(store, 'nothing/'), []);
      assert.equal((await keys(store, '')).length, 1102);
      const listed = await collect(store.list('many/000'));
      assert.deepEqual(listed.map((o) => o.size), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    });

    test('head and delete: missing keys give null, deleting twice is fine', async (t) => {
      const store = await target.open(t);
      assert.equal(await store.head('nope'), null);
      await store.put('dir/sub/x', Buffer.from('x'));
      await store.put('dir/y', Buffer.from('y'));
      await store.delete('dir/sub/x');
      await store.delete('dir/sub/x');
      assert.equal(await store.head('dir/sub/x'), null);
      assert.equal(await store.head('dir/sub'), null);
      assert.deepEqual(await keys(store, 'dir/'), ['dir/y']);
      if (store.deletePrefix !== undefined) {
        await store.put('dir/z', Buffer.from('z'));
        assert.equal(await store.deletePrefix('dir/'), 2);
        assert.deepEqual(await keys(store, ''), []);
      }
    });

    test('a large object goes up in parts and comes back whole', async (t) => {
      const store = await target.open(t, { multipartThresholdBytes: 64 * 1024, partSizeBytes: 64 * 1024 });
      const body = randomBytes(300 * 1024);
      const fromBuffer = await store.put('big/a.bin', body);
      assert.equal(fromBuffer.size, body.length);
      if (target.multipart) assert.equal(fromBuffer.parts, 5);
      assert.deepEqual(await store.get('big/a.bin'), body);
      const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-storage-big-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await writeFile(path.join(dir, 'big.bin'), body);
      const fromFile = await store.put('big/b.bin', { path: path.join(dir, 'big.bin') });
      if (target.multipart) assert.equal(fromFile.parts, 5);
      await store.download('big/b.bin', path.join(dir, 'back.bin'));
      assert.deepEqual(await readFile(path.join(dir, 'back.bin')), body);
      assert.deepEqual((await collect(store.list('big/'))).map((o) => [o.key, o.size]), [
        ['big/a.bin', body.length],
        ['big/b.bin', body.length],
      ]);
    });

    test('cleanupTemporary removes leftovers of interrupted puts and nothing else', async (t) => {
      const store = await target.open(t);
      await store.put('golden/t/2024/01/01/00/t+0+0+1.snappy.parquet', Buffer.from('committed'));
      if (typeof target.plantLeftover === 'function') {
        await target.plantLeftover(store, 'golden/t/2024/01/01/00/t+0+2+3.snappy.parquet');
        assert.deepEqual(await keys(store, 'golden/'), ['golden/t/2024/01/01/00/t+0+0+1.snappy.parquet']);
        assert.equal(await store.cleanupTemporary('golden/', { olderThanMs: 3_600_000 }), 0, 'a fresh leftover is kept');
        assert.equal(await store.cleanupTemporary('golden/'), 1);
        assert.equal(await store.cleanupTemporary('golden/'), 0);
      } else {
        t.diagnostic(`leftover planting skipped: ${target.plantLeftover.skip}`);
        assert.equal(await store.cleanupTemporary('golden/'), 0);
      }
      assert.deepEqual(await keys(store, ''), ['golden/t/2024/01/01/00/t+0+0+1.snappy.parquet']);
      assert.equal((await store.get('golden/t/2024/01/01/00/t+0+0+1.snappy.parquet')).toString(), 'committed');
    });

    test('missing objects and bad keys give stable codes', async (t) => {
      const store = await target.open(t);
      await assert.rejects(store.get('missing/key'), isCode(StorageErrorCode.NOT_FOUND));
      const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-storage-nf-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await assert.rejects(store.download('missing/key', path.join(dir, 'x')), isCode(StorageErrorCode.NOT_FOUND));
      for (const bad of ['', '/abs', 'a//b', 'a/../b', 'a/', `a/${TEMPORARY_PREFIX}x`]) {
        await assert.rejects(store.put(bad, Buffer.from('x')), isCode(StorageErrorCode.BAD_KEY), bad);
      }
      await assert.rejects(collect(store.list('../')), isCode(StorageErrorCode.BAD_KEY));
      const e = await store.get('missing/key').catch((err: unknown) => err);
      assert.ok(e instanceof StorageError && !e.retryable && e.message.includes('missing/key'));
    });
  });
}
