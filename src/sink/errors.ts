// Lake sink codes: SinkError for what stops the sink from starting or writing, and per-record codes for conversion.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const SinkErrorCode = {
  /** A pathFormat, granularity, time zone or field partition setting is not allowed. */
  INVALID_PATH_FORMAT: 'OXBOW_SINK_INVALID_PATH_FORMAT',
  /** A part of the dataset's JSON Schema has no Parquet column type. */
  UNMAPPABLE_SCHEMA: 'OXBOW_SINK_UNMAPPABLE_SCHEMA',
  /** DuckDB failed to write a Parquet file (bad input for the declared columns, disk full, memory limit). */
  PARQUET_WRITE_FAILED: 'OXBOW_SINK_PARQUET_WRITE_FAILED',
  /** A rotation policy setting (flushSize, rotateIntervalMs, rotateScheduleIntervalMs) is not allowed. */
  INVALID_ROTATION_POLICY: 'OXBOW_SINK_INVALID_ROTATION_POLICY',
} as const;
export type SinkErrorCode = (typeof SinkErrorCode)[keyof typeof SinkErrorCode];

/** Why one record cannot be placed in the lake; a per-record result, never an exception. */
export const SinkRecordCode = {
  /** The event-time field is missing, of the wrong type, or not a valid date-time / epoch milliseconds. */
  BAD_EVENT_TIME: 'OXBOW_SINK_BAD_EVENT_TIME',
  /** A field partition's value is an object or an array, which cannot name a directory. */
  BAD_PARTITION_VALUE: 'OXBOW_SINK_BAD_PARTITION_VALUE',
  /** The processed record's value is missing, not UTF-8, not JSON, or not a JSON object. */
  NOT_JSON_OBJECT: 'OXBOW_SINK_NOT_JSON_OBJECT',
  /** A value does not fit its Parquet column (DuckDB refused it), so its file is written without it. */
  UNWRITABLE_RECORD: 'OXBOW_SINK_UNWRITABLE_RECORD',
} as const;
export type SinkRecordCode = (typeof SinkRecordCode)[keyof typeof SinkRecordCode];

export class SinkError extends OxbowError {
  declare readonly code: SinkErrorCode;
  constructor(code: SinkErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
