// Public face of the lake sink: partitioner, data file names, Parquet schema mapping and the Parquet writer.
export { SinkError, SinkErrorCode, SinkRecordCode } from './errors.ts';
export {
  createPartitioner,
  partitionPath,
  escapePartitionValue,
  eventTimeMs,
  GRANULARITIES,
  NULL_PARTITION_VALUE,
  PATH_FORMAT_PRESETS,
  type Granularity,
  type PartitionInput,
  type Partitioner,
  type PartitionerOptions,
  type PartitionResult,
  type PathFormatPreset,
} from './partitioner.ts';
export { dataFileName, parseDataFileName, PARQUET_CODECS, type DataFileName, type ParquetCodec } from './file-name.ts';
export { mapJsonSchema, LINEAGE_COLUMNS, LINEAGE_FIELD, type MapSchemaOptions, type ParquetColumn, type ParquetSchemaMapping } from './parquet-schema.ts';
export {
  ParquetWriter,
  writeParquet,
  type ColumnStats,
  type ParquetInput,
  type ParquetWriteOptions,
  type ParquetWriteResult,
  type ParquetWriterOptions,
} from './parquet-writer.ts';
export {
  OpenFileTracker,
  openFileKey,
  validateRotationPolicy,
  ROTATE_REASONS,
  type Clock,
  type OpenFileState,
  type RotateReason,
  type RotationPolicy,
} from './rotation.ts';
export {
  recoverPartitionPosition,
  cleanupLeftovers,
  gapsAndOverlaps,
  type OffsetOverlap,
  type OffsetRange,
  type PartitionPosition,
  type RecoveredFile,
  type RecoverPartitionOptions,
} from './recovery.ts';
