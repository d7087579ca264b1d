// The one small interface every storage backend implements, and the key rules they share.
import { randomBytes } from 'node:crypto';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { StorageError, StorageErrorCode } from './errors.ts';

/** What `put` uploads: bytes in memory, or a local file read in parts (so large files never sit in memory whole). */
export type PutBody = Buffer | { readonly path: string };

export type ObjectInfo = {
  /** The key relative to the store's root, `/`-separated. */
  readonly key: string;
  readonly size: number;
  readonly mtime: Date;
};

export type PutResult = {
  readonly key: string;
  readonly size: number;
  /** 1 for a single write or PUT; the number of parts for an S3 multipart upload. */
  readonly parts: number;
};

export type CleanupOptions = {
  /** Only remove leftovers at least this old, so a write in progress elsewhere is not disturbed. Default 0 (all). */
  readonly olderThanMs?: number;
};

export interface ObjectStore {
  /** Describes the store (no credentials), e.g. `file:///var/lake` or `s3://bucket/prefix?endpoint=…`. */
  readonly url: string;
  /** Write atomically: readers see the old object or the whole new one, never a part, and never the temporary name. */
  put(key: string, body: PutBody): Promise<PutResult>;
  /** The whole object; OXBOW_STORAGE_NOT_FOUND if there is none. */
  get(key: string): Promise<Buffer>;
  /** Copy the object to a local file (itself written under a temporary name and renamed). */
  download(key: string, localPath: string): Promise<void>;
  /** Size and modification time, or null if there is no such object. */
  head(key: string): Promise<{ size: number; mtime: Date } | null>;
  /** Every committed object whose key starts with `prefix` (a plain string prefix), in ascending key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Remove the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Remove every object under `prefix`; returns how many were removed. */
  deletePrefix?(prefix: string): Promise<number>;
  /** Remove what interrupted writes left under `prefix` (local temp files; S3 multipart uploads); returns how many. */
  cleanupTemporary(prefix: string, options?: CleanupOptions): Promise<number>;
  /** Release connections; the store must not be used afterwards. */
  close(): Promise<void>;
}

/** Names starting with this are temporary files of an unfinished put; list never returns them. */
export const TEMPORARY_PREFIX = '.tmp-';

const MAX_KEY_BYTES = 1024;

/** A key: `/`-separated segments, none empty, `.`, `..` or temporary, no leading or trailing slash. */
export function checkKey(key: string): void {
  checkPath(key, 'key');
  if (key.length === 0 || key.endsWith('/')) throw badKey(key, 'a key must be non-empty and not end with "/"');
}

/** A prefix: like a key, but may be empty or end with `/`, and its last segment may be partial. */
export function checkPrefix(prefix: string): void {
  checkPath(prefix, 'prefix');
}

function checkPath(value: string, what: string): void {
  if (typeof value !== 'string') throw badKey(String(value), `the ${what} must be a string`);
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) throw badKey(value, `the ${what} is longer than ${MAX_KEY_BYTES} bytes`);
  if (value.startsWith('/')) throw badKey(value, `the ${what} must not start with "/"`);
  if (/[\0\\]/.test(value)) throw badKey(value, `the ${what} must not contain NUL or "\\"`);
  const segments = value.split('/');
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '' && !last) throw badKey(value, `the ${what} has an empty segment ("//")`);
    if (segment === '.' || segment === '..') throw badKey(value, `the ${what} has a "${segment}" segment`);
    if (segment.startsWith(TEMPORARY_PREFIX)) {
      throw badKey(value, `segments starting with "${TEMPORARY_PREFIX}" are reserved for temporary files`);
    }
  });
}

function badKey(key: string, why: string): StorageError {
  return new StorageError(StorageErrorCode.BAD_KEY, `invalid object key ${JSON.stringify(key)}: ${why}`, { fields: { key } });
}

/** A fresh temporary name beside `target` (same directory, so a rename makes it visible atomically). */
export function temporaryPathBeside(target: string): string {
  return path.join(path.dirname(target), `${TEMPORARY_PREFIX}${path.basename(target)}-${randomBytes(6).toString('hex')}`);
}

/**
 * Downloads into a temporary file beside `localPath` and renames it into place, so `localPath` is either absent or
 * complete; on failure the temporary file is removed and `translate(err)` is thrown.
 */
export async function downloadAtomically(localPath: string, fill: (tempPath: string) => Promise<void>, translate: (err: unknown) => Error): Promise<void> {
  const temp = temporaryPathBeside(localPath);
  try {
    await fill(temp);
    await rename(temp, localPath);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw translate(err);
  }
}
