// openObjectStore: the URL picks the backend — file:///dir or a plain path (local), s3://bucket/prefix?… (S3-compatible).
import { fileURLToPath } from 'node:url';
import { StorageError, StorageErrorCode } from './errors.ts';
import { LocalObjectStore } from './local.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore, type S3Credentials } from './s3.ts';

export type OpenObjectStoreOptions = {
  /** S3 credentials; default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else the SDK's default chain. */
  readonly credentials?: S3Credentials;
  readonly multipartThresholdBytes?: number;
  readonly partSizeBytes?: number;
  readonly listPageSize?: number;
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
  /** Local: fsync files and directories on put. Default true. */
  readonly fsync?: boolean;
  /** Where to read AWS_* variables from. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
};

const S3_PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle']);

export async function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): Promise<ObjectStore> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (url.trim() === '') throw badUrl(url, 'the storage URL is empty');
  if (scheme === undefined || (scheme.length === 1 && process.platform === 'win32')) {
    const store = new LocalObjectStore(url, options.fsync === undefined ? {} : { fsync: options.fsync });
    await store.init();
    return store;
  }
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (e) {
      throw badUrl(url, `a file URL must be file:///absolute/path (${(e as Error).message})`);
    }
    const store = new LocalObjectStore(dir, options.fsync === undefined ? {} : { fsync: options.fsync });
    await store.init();
    return store;
  }
  if (scheme === 's3') return openS3(url, options);
  throw badUrl(url, `unknown scheme "${scheme}:"; use file:///dir, a plain path, or s3://bucket/prefix`);
}

function openS3(url: string, options: OpenObjectStoreOptions): ObjectStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl(url, 'not a valid URL');
  }
  const bucket = parsed.hostname;
  if (bucket === '' || parsed.username !== '' || parsed.password !== '' || parsed.port !== '') {
    throw badUrl(url, 'write s3://bucket/prefix, with no credentials or port in the URL (put the endpoint in ?endpoint=)');
  }
  for (const name of parsed.searchParams.keys()) {
    if (!S3_PARAMETERS.has(name)) throw badUrl(url, `unknown parameter "${name}"; known: ${[...S3_PARAMETERS].join(', ')}`);
  }
  const endpoint = parsed.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw badUrl(url, `endpoint must be http(s)://host[:port], got "${endpoint}"`);
  const forcePathStyle = parsed.searchParams.get('forcePathStyle') ?? 'false';
  if (forcePathStyle !== 'true' && forcePathStyle !== 'false') throw badUrl(url, `forcePathStyle must be true or false, got "${forcePathStyle}"`);
  let prefix = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const env = options.env ?? process.env;
  const region = parsed.searchParams.get('region') ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const credentials = options.credentials ?? credentialsFromEnv(env);
  return new S3ObjectStore({
    url: `s3://${bucket}/${prefix}${parsed.search}`,
    bucket,
    prefix,
    region,
    forcePathStyle: forcePathStyle === 'true',
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...pick(options),
  });
}

function pick(options: OpenObjectStoreOptions) {
  const out: { -readonly [K in 'multipartThresholdBytes' | 'partSizeBytes' | 'listPageSize' | 'maxAttempts' | 'requestTimeoutMs']?: number } = {};
  for (const name of ['multipartThresholdBytes', 'partSizeBytes', 'listPageSize', 'maxAttempts', 'requestTimeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): S3Credentials | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

function badUrl(url: string, why: string): StorageError {
  return new StorageError(StorageErrorCode.BAD_URL, `bad storage URL ${JSON.stringify(url)}: ${why}`, { fields: { url } });
}
