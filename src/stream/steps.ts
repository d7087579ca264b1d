// The steps of a dataset's pipeline as declared in oxbow.config.ts, and the small builders that create them.

/** A JSON Schema (draft 2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** A record between steps: the parsed JSON object, changed by each step in turn. */
export type DataRecord = Record<string, unknown>;

/** One Kafka record header; a key may repeat, and order is kept. */
export type StreamHeader = { key: string; value: Buffer | null };

/** Where a record came from, and its Kafka envelope; passed to filter predicates and enrich functions. */
export type RecordContext = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly headers: readonly StreamHeader[];
};

/** What an enrich function receives besides the record: the envelope, and a signal aborted when the step times out. */
export type EnrichContext = RecordContext & { readonly signal: AbortSignal };

const ENRICH_FAILURE: unique symbol = Symbol('oxbow.enrichFailure');

/** What an enrich function returns when it knows the record cannot be enriched; the record is dead-lettered with the reason. */
export type EnrichFailure = { readonly [ENRICH_FAILURE]: true; readonly reason: string; readonly details?: unknown };

/** The failure value an enrich function returns instead of a record (OXBOW_STREAM_ENRICH_FAILED). */
export function enrichFailure(reason: string, details?: unknown): EnrichFailure {
  return details === undefined ? { [ENRICH_FAILURE]: true, reason } : { [ENRICH_FAILURE]: true, reason, details };
}

export function isEnrichFailure(v: unknown): v is EnrichFailure {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[ENRICH_FAILURE] === true;
}

export type FilterPredicate = (record: DataRecord, context: RecordContext) => boolean | Promise<boolean>;
export type EnrichFunction = (record: DataRecord, context: EnrichContext) => DataRecord | EnrichFailure | Promise<DataRecord | EnrichFailure>;

export type LookupFormat = 'csv' | 'json' | 'ndjson';
export type LookupMiss = 'null' | 'dead-letter';

export type ParseStep = { kind: 'parse'; name: string; maxValueBytes?: number };
export type ValidateStep = { kind: 'validate'; name: string; schema?: JsonSchema };
export type FilterStep = { kind: 'filter'; name: string; predicate: FilterPredicate };
export type EnrichStep = { kind: 'enrich'; name: string; fn: EnrichFunction; timeoutMs?: number };
export type LookupOptions = {
  /** The table: a CSV file with a header row, a JSON array of objects, or NDJSON (one object a line). */
  file: string;
  format: LookupFormat;
  /** The column (CSV) or property (JSON) of the table that identifies a row. */
  key: string;
  /** The record's field whose value is looked up in `key`. */
  on: string;
  /** The columns copied into the record; all but the key when left out. */
  fields?: string[];
  /** On a miss, set the fields to null, or dead-letter the record (OXBOW_STREAM_LOOKUP_MISS). */
  miss: LookupMiss;
  /** Check the file's size and modification time at most this often, and reload it when either changed. */
  reloadCheckMs?: number;
};
export type LookupStep = { kind: 'lookup'; name: string } & LookupOptions;

export type StepDeclaration = ParseStep | ValidateStep | FilterStep | EnrichStep | LookupStep;

/** Decode the value as UTF-8 JSON; always the first step, added when a dataset leaves it out. */
export function parse(options: { maxValueBytes?: number } = {}): ParseStep {
  return options.maxValueBytes === undefined ? { kind: 'parse', name: 'parse' } : { kind: 'parse', name: 'parse', maxValueBytes: options.maxValueBytes };
}

/** Check the record against a schema: the one given, else the dataset's rawSchema, else its processed schema. */
export function validate(options: { name?: string; schema?: JsonSchema } = {}): ValidateStep {
  const step: ValidateStep = { kind: 'validate', name: options.name ?? 'validate' };
  if (options.schema !== undefined) step.schema = options.schema;
  return step;
}

/** Keep the records for which the predicate returns true; the others are counted as filtered by this rule. */
export function filter(name: string, predicate: FilterPredicate): FilterStep {
  return { kind: 'filter', name, predicate };
}

/** Replace the record with what `fn` returns (sync or async), or dead-letter it on enrichFailure(), a throw or a timeout. */
export function enrich(name: string, fn: EnrichFunction, options: { timeoutMs?: number } = {}): EnrichStep {
  return options.timeoutMs === undefined ? { kind: 'enrich', name, fn } : { kind: 'enrich', name, fn, timeoutMs: options.timeoutMs };
}

/** Join the record with a table from a file, by `on` = `key`; the file is reloaded when it changes. */
export function lookup(name: string, options: LookupOptions): LookupStep {
  return { kind: 'lookup', name, ...options };
}
