// Public face of storage: the ObjectStore interface, openObjectStore(url), and StorageError.
export { StorageError, StorageErrorCode } from './errors.ts';
export { LocalObjectStore, type LocalObjectStoreOptions } from './local.ts';
export {
  checkKey,
  checkPrefix,
  TEMPORARY_PREFIX,
  type CleanupOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutResult,
} from './object-store.ts';
export { openObjectStore, type OpenObjectStoreOptions } from './open.ts';
export { S3ObjectStore, type S3Credentials, type S3ObjectStoreOptions } from './s3.ts';
