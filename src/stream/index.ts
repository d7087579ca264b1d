// Public face of the stream job's per-record engine: dataset declarations, step builders, the pipeline and dead letters.
export { parse, validate, filter, enrich, lookup, enrichFailure, isEnrichFailure } from './steps.ts';
export type {
  DataRecord,
  EnrichContext,
  EnrichFailure,
  EnrichFunction,
  EnrichStep,
  FilterPredicate,
  FilterStep,
  JsonSchema,
  LookupFormat,
  LookupMiss,
  LookupOptions,
  LookupStep,
  ParseStep,
  RecordContext,
  StepDeclaration,
  StreamHeader,
  ValidateStep,
} from './steps.ts';
export {
  resolveDatasets,
  processedSchema,
  DEFAULT_ENRICH_TIMEOUT_MS,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_RELOAD_CHECK_MS,
  SOURCE_FIELD,
  type DatasetDeclaration,
  type DatasetProblem,
  type ResolvedDataset,
  type ResolvedStep,
} from './dataset.ts';
export {
  compilePipeline,
  type DeadLetterOutcome,
  type FilteredOutcome,
  type Outcome,
  type Pipeline,
  type PipelineOptions,
  type ProcessedOutcome,
  type SourceRecord,
  type StreamCounters,
} from './pipeline.ts';
export { deadLetterHeaders, DeadLetterHeader, MAX_ERROR_MESSAGE_CHARS } from './dead-letter.ts';
export { DeadLetterCode, StreamError, StreamErrorCode } from './errors.ts';
export { parseCsv } from './csv.ts';
export { parseTable, type StreamWarning } from './lookup-table.ts';
export { compileSchema, describeViolations, type Violation } from './schema.ts';
export { streamGroupId, streamStatusPath } from './runtime-names.ts';
export { StreamWorker, type StreamWorkerOptions, type StreamWorkerStatus } from './worker.ts';
export { streamSettings, StreamThread, type StreamThreadInput } from './thread.ts';
export { committedOffsets, describeGroup, logRanges, topicPartitions, NO_OFFSET, type GroupMemberView, type GroupView, type LogRange, type StreamAdmin } from './admin.ts';
export { parseReplayFrom, replayDataset, type ReplayFrom, type ReplayMove, type ReplayResult } from './replay.ts';
export {
  inspectDeadLetters,
  readDeadLetters,
  redriveDeadLetters,
  redriveCodeGroupId,
  redriveGroupId,
  DEFAULT_IDLE_TIMEOUT_MS,
  OXBOW_HEADER_PREFIX,
  UNKNOWN_CODE,
  type CodeSummary,
  type DeadLetter,
  type DeadLetterSample,
  type InspectResult,
  type KafkaClientOptions,
  type RedriveResult,
} from './dlq.ts';
