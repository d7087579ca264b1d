// The ObjectStore contract against a local directory, plus what only the local backend promises.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LocalObjectStore, openObjectStore, StorageError, StorageErrorCode, TEMPORARY_PREFIX } from '../../src/storage/index.ts';
import { objectStoreContract } from './contract.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oxbow-local-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

objectStoreContract({
  name: 'local directory',
  open: async (t) => openObjectStore(pathToFileURL(path.join(await tempDir(t), 'lake')).href),
  plantLeftover: async (store, key) => {
    assert.ok(store instanceof LocalObjectStore);
    const file = path.join(store.root, ...key.split('/'));
    await writeFile(path.join(path.dirname(file), `${TEMPORARY_PREFIX}${path.basename(file)}-abc123`), 'half a file');
  },
  atomicServer: true,
  multipart: false,
});

test('openObjectStore: file URLs and plain paths open a local store; other URLs are refused by name', async (t) => {
  const dir = await tempDir(t);
  const fromUrl = await openObjectStore(pathToFileURL(dir).href);
  assert.equal(fromUrl.url, pathToFileURL(dir).href);
  const fromPath = await openObjectStore(path.join(dir, 'plain'));
  await fromPath.put('x', Buffer.from('1'));
  assert.deepEqual(await readdir(path.join(dir, 'plain')), ['x']);
  for (const bad of ['', 'ftp://host/dir', 'file://remote-host/dir', 's3:///prefix', 's3://b/p?bogus=1', 's3://b/p?forcePathStyle=yes', 's3://b?endpoint=localhost']) {
    await assert.rejects(openObjectStore(bad), (e: unknown) => {
      assert.ok(e instanceof StorageError && e.code === StorageErrorCode.BAD_URL, String(e));
      assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
      return true;
    });
  }
});

test('a failed put leaves neither the object nor a temporary file', async (t) => {
  const dir = await tempDir(t);
  const store = await openObjectStore(dir);
  await assert.rejects(
    store.put('a/b', { path: path.join(dir, 'does-not-exist') }),
    (e: unknown) => e instanceof StorageError && e.code === StorageErrorCode.REQUEST_FAILED && e.message.includes('does-not-exist'),
  );
  await store.put('a/c', Buffer.from('c'));
  await assert.rejects(store.put('a/c/d', Buffer.from('d')), StorageError); // a/c is a file, so a/c/ cannot be a directory
  assert.deepEqual(await readdir(path.join(dir, 'a')), ['c']);
});
