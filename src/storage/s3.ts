// S3-compatible backend (AWS, MinIO, Ceph, s3rver): a single PUT, or a multipart upload completed only when every part is in.
import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { assert } from '../errors.ts';
import { StorageError, StorageErrorCode } from './errors.ts';
import {
  checkKey,
  checkPrefix,
  downloadAtomically,
  type CleanupOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutResult,
} from './object-store.ts';

export type S3Credentials = { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };

export type S3ObjectStoreOptions = {
  readonly bucket: string;
  /** Key prefix inside the bucket, without leading slash; '' or ending in '/'. */
  readonly prefix: string;
  /** e.g. http://127.0.0.1:9000 for MinIO; omit for AWS. */
  readonly endpoint?: string;
  readonly region: string;
  /** Address the bucket in the path (MinIO, Ceph, s3rver) rather than in the host name. */
  readonly forcePathStyle: boolean;
  /** Omit to use the SDK's default chain (environment, profile, instance role). */
  readonly credentials?: S3Credentials;
  /** Bodies larger than this go up as a multipart upload. Default 64 MiB. */
  readonly multipartThresholdBytes?: number;
  /** Size of each multipart part (S3 requires at least 5 MiB except the last). Default 16 MiB. */
  readonly partSizeBytes?: number;
  /** Keys asked for per list request (at most 1000). Default 1000. */
  readonly listPageSize?: number;
  /** Attempts per request inside the SDK before a retryable error reaches the caller. Default 3. */
  readonly maxAttempts?: number;
  /** Give up on a request that has not answered in this long. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** The URL shown in `store.url` and error messages. */
  readonly url: string;
};

const MiB = 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #thresholdBytes: number;
  readonly #partSizeBytes: number;
  readonly #pageSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.url = options.url;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#partSizeBytes = options.partSizeBytes ?? 16 * MiB;
    this.#thresholdBytes = options.multipartThresholdBytes ?? Math.max(64 * MiB, this.#partSizeBytes);
    this.#pageSize = options.listPageSize ?? 1000;
    if (!(this.#partSizeBytes >= 1) || !(this.#thresholdBytes >= 1) || !(this.#pageSize >= 1 && this.#pageSize <= 1000)) {
      throw new StorageError(StorageErrorCode.BAD_URL, `${this.url}: partSizeBytes and multipartThresholdBytes must be positive, listPageSize 1..1000`, {
        fields: { url: this.url },
      });
    }
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: options.maxAttempts ?? 3,
      // Third-party servers (MinIO, Ceph, s3rver) do not all know the newer default checksums; send them only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  async put(key: string, body: PutBody): Promise<PutResult> {
    checkKey(key);
    const size = Buffer.isBuffer(body) ? body.length : await stat(body.path).then((s) => s.size, (e: unknown) => {
      throw this.#translate(e, 'read the file to upload as', key);
    });
    if (size <= this.#thresholdBytes) {
      const bytes = Buffer.isBuffer(body) ? body : await this.#readPart(body.path, 0, size, key);
      await this.#send('write', key, () => this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#fullKey(key), Body: bytes })));
      return { key, size, parts: 1 };
    }
    return this.#putMultipart(key, body, size);
  }

  async #putMultipart(key: string, body: PutBody, size: number): Promise<PutResult> {
    const Key = this.#fullKey(key);
    const created = await this.#send('start a multipart upload of', key, () =>
      this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key })),
    );
    const UploadId = created.UploadId;
    if (UploadId === undefined) throw new StorageError(StorageErrorCode.REQUEST_FAILED, `${this.url}: no UploadId for ${key}`, { fields: { key } });
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      // Parts go up one at a time, so memory stays at one part whatever the object's size.
      for (let offset = 0, PartNumber = 1; offset < size; offset += this.#partSizeBytes, PartNumber++) {
        const length = Math.min(this.#partSizeBytes, size - offset);
        const bytes = Buffer.isBuffer(body) ? body.subarray(offset, offset + length) : await this.#readPart(body.path, offset, length, key);
        const uploaded = await this.#send('upload a part of', key, () =>
          this.#client.send(new UploadPartCommand({ Bucket: this.#bucket, Key, UploadId, PartNumber, Body: bytes })),
        );
        parts.push({ ETag: uploaded.ETag ?? '', PartNumber });
      }
      await this.#send('complete the multipart upload of', key, () =>
        this.#client.send(new CompleteMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId, MultipartUpload: { Parts: parts } })),
      );
      return { key, size, parts: parts.length };
    } catch (e) {
      // Best effort: if the abort fails too, cleanupTemporary (or a bucket lifecycle rule) removes the upload later.
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId })).catch(() => undefined);
      throw e;
    }
  }

  async #readPart(file: string, offset: number, length: number, key: string): Promise<Buffer> {
    try {
      const handle = await open(file, 'r');
      try {
        const bytes = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
          if (bytesRead === 0) throw new Error(`${file} shrank while it was being uploaded`);
          done += bytesRead;
        }
        return bytes;
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw this.#translate(e, 'read the file to upload as', key);
    }
  }

  async get(key: string): Promise<Buffer> {
    checkKey(key);
    return this.#send('read', key, async () => {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#fullKey(key) }));
      if (out.Body === undefined) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    });
  }

  async download(key: string, localPath: string): Promise<void> {
    checkKey(key);
    await downloadAtomically(
      localPath,
      (temp) =>
        this.#send('download', key, async () => {
          const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#fullKey(key) }));
          await pipeline(out.Body as Readable, createWriteStream(temp));
        }),
      (e) => this.#translate(e, 'download', key),
    );
  }

  async head(key: string): Promise<{ size: number; mtime: Date } | null> {
    checkKey(key);
    try {
      const out = await this.#send('stat', key, () => this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#fullKey(key) })));
      return { size: out.ContentLength ?? 0, mtime: out.LastModified ?? new Date(0) };
    } catch (e) {
      if (e instanceof StorageError && e.code === StorageErrorCode.NOT_FOUND) return null;
      throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    // ListObjects (v1) paged by Marker = the last key seen: every S3-compatible server has it, while v2 continuation
    // tokens are opaque and some servers (s3rver on OpenSSL 3) cannot produce them.
    let Marker: string | undefined;
    // Bounded by the bucket: each page moves the marker forward, and the server ends with IsTruncated false.
    while (true) {
      const page = await this.#send('list', prefix, () =>
        this.#client.send(
          new ListObjectsCommand({
            Bucket: this.#bucket,
            Prefix: this.#fullKey(prefix),
            MaxKeys: this.#pageSize,
            ...(Marker === undefined ? {} : { Marker }),
          }),
        ),
      );
      const contents = page.Contents ?? [];
      for (const object of contents) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.#prefix.length), size: object.Size ?? 0, mtime: object.LastModified ?? new Date(0) };
      }
      const last = page.NextMarker ?? contents.at(-1)?.Key;
      if (page.IsTruncated !== true || last === undefined) return;
      assert(Marker === undefined || last > Marker, 'list pages move forward');
      Marker = last;
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#send('delete', key, () => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#fullKey(key) })));
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkPrefix(prefix);
    const keys: string[] = [];
    for await (const object of this.list(prefix)) keys.push(object.key);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  async cleanupTemporary(prefix: string, options: CleanupOptions = {}): Promise<number> {
    checkPrefix(prefix);
    const cutoff = Date.now() - (options.olderThanMs ?? 0);
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    while (true) {
      let page;
      try {
        page = await this.#send('list multipart uploads under', prefix, () =>
          this.#client.send(
            new ListMultipartUploadsCommand({
              Bucket: this.#bucket,
              Prefix: this.#fullKey(prefix),
              ...(KeyMarker === undefined ? {} : { KeyMarker }),
              ...(UploadIdMarker === undefined ? {} : { UploadIdMarker }),
            }),
          ),
        );
      } catch (e) {
        // Servers without ListMultipartUploads (s3rver) keep no listable uploads; a lifecycle rule is the tool there.
        if (e instanceof StorageError && e.fields['httpStatus'] === 501) return removed;
        throw e;
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        if (upload.Initiated !== undefined && upload.Initiated.getTime() > cutoff) continue;
        const { Key, UploadId } = upload;
        await this.#send('abort a multipart upload of', Key, () => this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId })));
        removed++;
      }
      if (page.IsTruncated !== true) return removed;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #fullKey(key: string): string {
    return this.#prefix + key;
  }

  async #send<T>(action: string, key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      throw this.#translate(e, action, key);
    }
  }

  #translate(e: unknown, action: string, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const err = e as { name?: string; code?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
    const httpStatus = err.$metadata?.httpStatusCode;
    const where = `${this.url} key ${JSON.stringify(key)}`;
    const fields = { url: this.url, key, httpStatus, awsCode: err.name ?? err.code };
    if (err.name === 'NoSuchKey' || err.name === 'NotFound' || (httpStatus === 404 && err.name !== 'NoSuchBucket')) {
      return new StorageError(StorageErrorCode.NOT_FOUND, `cannot ${action} ${where}: no such object`, { fields, cause: e });
    }
    const networkCodes = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'];
    const retryable =
      (httpStatus === undefined && (networkCodes.includes(err.code ?? '') || err.name === 'TimeoutError' || err.name === 'RequestTimeout')) ||
      (httpStatus !== undefined && (httpStatus >= 500 && httpStatus !== 501 || httpStatus === 429)) ||
      err.$retryable !== undefined;
    const code = retryable ? StorageErrorCode.UNAVAILABLE : StorageErrorCode.REQUEST_FAILED;
    return new StorageError(code, `cannot ${action} ${where}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, { retryable, fields, cause: e });
  }
}
