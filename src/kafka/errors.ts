// Kafka protocol error codes as sent on the wire (a fact of the protocol, from Kafka's Errors table),
// and the codec's own error for bytes that do not decode.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const KafkaErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  MEMBER_ID_REQUIRED: 79,
  NON_EMPTY_GROUP: 68,
  FENCED_INSTANCE_ID: 82,
  UNSTABLE_OFFSET_COMMIT: 88,
  UNKNOWN_TOPIC_ID: 100,
} as const;
export type KafkaErrorCode = (typeof KafkaErrorCode)[keyof typeof KafkaErrorCode];

/** A Kafka error code as people read it: `NOT_LEADER_OR_FOLLOWER (6)`. */
export function kafkaErrorName(code: number): string {
  for (const [name, value] of Object.entries(KafkaErrorCode)) if (value === code) return `${name} (${code})`;
  return `Kafka error ${code}`;
}

export const KafkaCodecErrorCode = {
  /** The bytes ended before the field being read. */
  TRUNCATED: 'OXBOW_KAFKA_TRUNCATED',
  /** A length, count or varint is out of range for the frame. */
  MALFORMED: 'OXBOW_KAFKA_MALFORMED',
} as const;
export type KafkaCodecErrorCode = (typeof KafkaCodecErrorCode)[keyof typeof KafkaCodecErrorCode];

export class KafkaCodecError extends OxbowError {
  declare readonly code: KafkaCodecErrorCode;
  constructor(code: KafkaCodecErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}

export const KafkaClientErrorCode = {
  /** A connection to a broker could not be made, or was lost with requests outstanding. */
  CONNECTION_LOST: 'OXBOW_KAFKA_CONNECTION_LOST',
  /** A broker's answer could not be read (an impossible frame size, an unknown correlation id). */
  BAD_RESPONSE: 'OXBOW_KAFKA_BAD_RESPONSE',
  /** A broker answered a request with a Kafka error code the caller does not handle itself. */
  REQUEST_REFUSED: 'OXBOW_KAFKA_REQUEST_REFUSED',
} as const;
export type KafkaClientErrorCode = (typeof KafkaClientErrorCode)[keyof typeof KafkaClientErrorCode];

/** Failures of Oxbow's own client side of the protocol (the lake sink's fetches). */
export class KafkaClientError extends OxbowError {
  declare readonly code: KafkaClientErrorCode;
  constructor(code: KafkaClientErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
