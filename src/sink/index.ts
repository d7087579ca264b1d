// Public face of the lake sink: the sink runtime, and the partitioner, file names, Parquet schema mapping and writer it builds on.
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
export { mapJsonSchema, quoteIdentifier, quoteString, LINEAGE_COLUMNS, LINEAGE_FIELD, type MapSchemaOptions, type ParquetColumn, type ParquetSchemaMapping } from './parquet-schema.ts';
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
export { LakeSink, sinkGroupId, listingPrefix, type CommitReason, type LakeSinkOptions, type SinkCounters, type SinkPartitioning } from './sink.ts';
export { startSinkFromConfig, sinkSummary, type SinkStartInput } from './from-config.ts';
export { listLake, type LakeFile, type LakePartition } from './lake-listing.ts';
export { listDataFiles, visibleFiles, currentRowsSql, type LakeDataFile } from './lake-view.ts';
export { compactTable, type CompactOptions, type CompactResult } from './compact.ts';
export { SinkThread, type SinkThreadInput } from './thread.ts';
