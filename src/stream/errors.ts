// Stream job codes: the dead-letter codes a record can get, and StreamError for what stops a pipeline from starting.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

/** Why a record went to the dead-letter topic; the value of its `oxbow.error.code` header. */
export const DeadLetterCode = {
  /** The record has no value (a tombstone); there is nothing to process. */
  TOMBSTONE: 'OXBOW_STREAM_TOMBSTONE',
  /** The value is not valid UTF-8. */
  INVALID_UTF8: 'OXBOW_STREAM_INVALID_UTF8',
  /** The value is not JSON. */
  INVALID_JSON: 'OXBOW_STREAM_INVALID_JSON',
  /** The value is JSON, but not an object (an array, a string, a number, null). */
  NOT_AN_OBJECT: 'OXBOW_STREAM_NOT_AN_OBJECT',
  /** The value is larger than the parse step's maxValueBytes. */
  VALUE_TOO_LARGE: 'OXBOW_STREAM_VALUE_TOO_LARGE',
  /** A validate step found the record does not match its schema; every violation is listed. */
  SCHEMA_VIOLATION: 'OXBOW_STREAM_SCHEMA_VIOLATION',
  /** A filter predicate or an enrich function threw, or returned something it may not. */
  STEP_FAILED: 'OXBOW_STREAM_STEP_FAILED',
  /** An enrich function did not finish within its timeoutMs. */
  STEP_TIMEOUT: 'OXBOW_STREAM_STEP_TIMEOUT',
  /** An enrich function returned enrichFailure(reason). */
  ENRICH_FAILED: 'OXBOW_STREAM_ENRICH_FAILED',
  /** A lookup step with miss: 'dead-letter' found no row for the record's key. */
  LOOKUP_MISS: 'OXBOW_STREAM_LOOKUP_MISS',
  /** After the last step the record no longer matches the processed schema (or cannot be written as JSON). */
  OUTPUT_SCHEMA_VIOLATION: 'OXBOW_STREAM_OUTPUT_SCHEMA_VIOLATION',
} as const;
export type DeadLetterCode = (typeof DeadLetterCode)[keyof typeof DeadLetterCode];

export const StreamErrorCode = {
  /** A lookup file could not be read or parsed when the pipeline was compiled. */
  LOOKUP_UNREADABLE: 'OXBOW_STREAM_LOOKUP_UNREADABLE',
  /** Replay was asked to move the offsets of a group that has active members (running workers). */
  GROUP_ACTIVE: 'OXBOW_STREAM_GROUP_ACTIVE',
  /** A dataset's topic (raw or dlq) does not exist on the Kafka cluster. */
  UNKNOWN_TOPIC: 'OXBOW_STREAM_UNKNOWN_TOPIC',
} as const;
export type StreamErrorCode = (typeof StreamErrorCode)[keyof typeof StreamErrorCode];

export class StreamError extends OxbowError {
  declare readonly code: StreamErrorCode;
  constructor(code: StreamErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
