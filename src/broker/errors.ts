// Broker errors (start-up, storage, topic administration); wire-level errors use Kafka codes instead.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const BrokerErrorCode = {
  /** The broker could not listen on the configured address (port taken, no permission). */
  LISTEN_FAILED: 'OXBOW_BROKER_LISTEN_FAILED',
  /** The data directory cannot be created, read or written. */
  DATA_DIR_UNUSABLE: 'OXBOW_BROKER_DATA_DIR_UNUSABLE',
  /** Another running broker process already uses this data directory. */
  DATA_DIR_LOCKED: 'OXBOW_BROKER_DATA_DIR_LOCKED',
  /** A topic name breaks Kafka's rules (characters, length, "." or ".."). */
  INVALID_TOPIC_NAME: 'OXBOW_BROKER_INVALID_TOPIC_NAME',
  /** Reading, writing, syncing, rolling or deleting a segment or index file failed (disk full, I/O error, permissions). */
  LOG_IO_FAILED: 'OXBOW_BROKER_LOG_IO_FAILED',
  /** A partition log was used after close(). */
  LOG_CLOSED: 'OXBOW_BROKER_LOG_CLOSED',
  /** The committed-offsets file is damaged before its last record, or is not an offsets file; refusing to guess. */
  OFFSETS_CORRUPT: 'OXBOW_BROKER_OFFSETS_CORRUPT',
  /** Appending a commit to the offsets file failed; the file was rolled back, so a retry may succeed. */
  OFFSETS_WRITE_FAILED: 'OXBOW_BROKER_OFFSETS_WRITE_FAILED',
  /** The offsets file cannot be opened, or an earlier I/O failure left it in an unknown state; restart needed. */
  OFFSETS_UNAVAILABLE: 'OXBOW_BROKER_OFFSETS_UNAVAILABLE',
  /** The topic does not exist. */
  UNKNOWN_TOPIC: 'OXBOW_BROKER_UNKNOWN_TOPIC',
  /** The topic already exists. */
  TOPIC_EXISTS: 'OXBOW_BROKER_TOPIC_EXISTS',
} as const;
export type BrokerErrorCode = (typeof BrokerErrorCode)[keyof typeof BrokerErrorCode];

export class BrokerError extends OxbowError {
  declare readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
