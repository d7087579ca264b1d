// Local-directory backend: a key is a file under the root; put writes a temp file beside it, fsyncs, renames, fsyncs the directory.
import type { Dirent } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StorageError, StorageErrorCode } from './errors.ts';
import {
  checkKey,
  checkPrefix,
  downloadAtomically,
  temporaryPathBeside,
  TEMPORARY_PREFIX,
  type CleanupOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutResult,
} from './object-store.ts';

export type LocalObjectStoreOptions = {
  /** fsync the file and its directory on put. Default true; only tests of throughput should turn it off. */
  readonly fsync?: boolean;
};

export class LocalObjectStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  readonly #fsync: boolean;

  constructor(root: string, options: LocalObjectStoreOptions = {}) {
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
    this.#fsync = options.fsync ?? true;
  }

  /** Create the root directory if needed. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true }).catch((e: unknown) => {
      throw this.#translate(e, 'create the root directory of', '');
    });
  }

  async put(key: string, body: PutBody): Promise<PutResult> {
    checkKey(key);
    const target = this.#pathOf(key);
    const dir = path.dirname(target);
    const temp = temporaryPathBeside(target);
    if (!Buffer.isBuffer(body)) {
      // A missing source file is the caller's problem, not a missing object: say so before touching the store.
      await stat(body.path).catch((e: unknown) => {
        throw new StorageError(StorageErrorCode.REQUEST_FAILED, `cannot read ${body.path} to upload as ${this.url} key ${JSON.stringify(key)}: ${(e as Error).message}`, {
          fields: { url: this.url, key, file: body.path },
          cause: e,
        });
      });
    }
    try {
      // A concurrent delete may remove an emptied directory between mkdir and the write; one retry covers it.
      for (let attempt = 0; ; attempt++) {
        await mkdir(dir, { recursive: true });
        try {
          await this.#writeTemp(temp, body);
          break;
        } catch (e) {
          if (attempt >= 2 || (e as NodeJS.ErrnoException).code !== 'ENOENT' || !Buffer.isBuffer(body)) throw e;
        }
      }
      await rename(temp, target);
      if (this.#fsync) await syncDirectory(dir);
      const size = Buffer.isBuffer(body) ? body.length : (await stat(target)).size;
      return { key, size, parts: 1 };
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw this.#translate(e, 'write', key);
    }
  }

  async #writeTemp(temp: string, body: PutBody): Promise<void> {
    if (!Buffer.isBuffer(body)) {
      await copyFile(body.path, temp);
      if (!this.#fsync) return;
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    }
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(body);
      if (this.#fsync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async get(key: string): Promise<Buffer> {
    checkKey(key);
    try {
      return await readFile(this.#pathOf(key));
    } catch (e) {
      throw this.#translate(e, 'read', key);
    }
  }

  async download(key: string, localPath: string): Promise<void> {
    checkKey(key);
    await downloadAtomically(localPath, (temp) => copyFile(this.#pathOf(key), temp), (e) => this.#translate(e, 'download', key));
  }

  async head(key: string): Promise<{ size: number; mtime: Date } | null> {
    checkKey(key);
    try {
      const s = await stat(this.#pathOf(key));
      return s.isFile() ? { size: s.size, mtime: s.mtime } : null;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw this.#translate(e, 'stat', key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const keys = (await this.#walk(prefix, false)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const key of keys) {
      // A key deleted after the walk is simply skipped: list shows what exists when each entry is read.
      const info = await this.head(key);
      if (info !== null) yield { key, size: info.size, mtime: info.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await unlink(this.#pathOf(key));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.#translate(e, 'delete', key);
    }
    await this.#pruneEmptyDirectories(path.dirname(this.#pathOf(key)));
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkPrefix(prefix);
    let removed = 0;
    for (const key of await this.#walk(prefix, false)) {
      await this.delete(key);
      removed++;
    }
    return removed;
  }

  async cleanupTemporary(prefix: string, options: CleanupOptions = {}): Promise<number> {
    checkPrefix(prefix);
    const cutoff = Date.now() - (options.olderThanMs ?? 0);
    let removed = 0;
    for (const relative of await this.#walk(prefix, true)) {
      const file = path.join(this.root, relative);
      try {
        if ((await stat(file)).mtimeMs > cutoff) continue;
        await unlink(file);
        removed++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw this.#translate(e, 'remove a temporary file under', prefix);
      }
    }
    return removed;
  }

  async close(): Promise<void> {}

  #pathOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  /** Keys under `prefix` (committed files), or with `temporary` the temp files (as relative paths) instead. */
  async #walk(prefix: string, temporary: boolean): Promise<string[]> {
    const out: string[] = [];
    const slash = prefix.lastIndexOf('/');
    const startKey = slash < 0 ? '' : prefix.slice(0, slash);
    const visit = async (dirKey: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dirKey === '' ? this.root : this.#pathOf(dirKey), { withFileTypes: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw this.#translate(e, 'list', prefix);
      }
      for (const entry of entries) {
        const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
        const isTemp = entry.name.startsWith(TEMPORARY_PREFIX);
        if (entry.isDirectory()) {
          if (!isTemp && (key.startsWith(prefix) || prefix.startsWith(`${key}/`))) await visit(key);
        } else if (entry.isFile() && isTemp === temporary) {
          // A temp file belongs to its directory: cleanup works per directory, so match the directory against the prefix.
          const dirPrefix = dirKey === '' ? '' : `${dirKey}/`;
          if (temporary ? dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix) : key.startsWith(prefix)) out.push(key);
        }
      }
    };
    await visit(startKey);
    return out;
  }

  async #pruneEmptyDirectories(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.root + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, or already gone: either way the pruning stops here
      }
      current = path.dirname(current);
    }
  }

  #translate(e: unknown, action: string, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${this.url} key ${JSON.stringify(key)}`;
    const fields = { url: this.url, key, errno: code };
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      return new StorageError(StorageErrorCode.NOT_FOUND, `cannot ${action} ${where}: no such object`, { fields, cause: e });
    }
    // Transient conditions a retry can outlast; everything else (EACCES, ENOSPC, EROFS, ...) needs a person.
    const retryable = code === 'EAGAIN' || code === 'EBUSY' || code === 'EMFILE' || code === 'ENFILE' || code === 'EINTR';
    return new StorageError(retryable ? StorageErrorCode.UNAVAILABLE : StorageErrorCode.REQUEST_FAILED, `cannot ${action} ${where}: ${(e as Error).message}`, {
      retryable,
      fields,
      cause: e,
    });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
