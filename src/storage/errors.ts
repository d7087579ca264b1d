// Storage codes: StorageError for every backend, so callers branch on the code whatever the store is.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const StorageErrorCode = {
  /** The key does not exist (get, download). */
  NOT_FOUND: 'OXBOW_STORAGE_NOT_FOUND',
  /** The store could not be reached or answered with a server error (network failure, timeout, 5xx, throttling). */
  UNAVAILABLE: 'OXBOW_STORAGE_UNAVAILABLE',
  /** The storage URL is not one Oxbow understands, or one of its parameters is wrong. */
  BAD_URL: 'OXBOW_STORAGE_BAD_URL',
  /** A key or prefix is not a valid object key (empty segment, `..`, a reserved temporary name, too long). */
  BAD_KEY: 'OXBOW_STORAGE_BAD_KEY',
  /** The store refused the request for a reason a retry will not fix (access denied, no such bucket, disk full). */
  REQUEST_FAILED: 'OXBOW_STORAGE_REQUEST_FAILED',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends OxbowError {
  declare readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
