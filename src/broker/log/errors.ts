// Errors of the partition log's storage; bad client bytes are answered with Kafka codes instead (AppendResult).
import { OxbowError, type OxbowErrorOptions } from '../../errors.ts';

export const LogErrorCode = {
  /** Reading, writing or syncing a segment or index file failed (disk full, I/O error, permissions). */
  IO_FAILED: 'OXBOW_BROKER_LOG_IO_FAILED',
  /** The partition log was used after close(). */
  CLOSED: 'OXBOW_BROKER_LOG_CLOSED',
} as const;
export type LogErrorCode = (typeof LogErrorCode)[keyof typeof LogErrorCode];

export class LogError extends OxbowError {
  declare readonly code: LogErrorCode;
  constructor(code: LogErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
