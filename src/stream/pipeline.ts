// The per-record engine: a dataset's steps compiled into process(record) → processed, filtered or dead-letter.
// Bad data never throws; it becomes a dead-letter outcome with a stable code, and every record is counted once.
import { describeError } from '../async.ts';
import { assert } from '../errors.ts';
import { processedSchema, SOURCE_FIELD, type ResolvedDataset, type ResolvedStep } from './dataset.ts';
import { DeadLetterCode } from './errors.ts';
import { lookupKey, LookupTable, type StreamWarning, type TableData } from './lookup-table.ts';
import { CarryPlan, type CheckedValues } from './output-check.ts';
import { compileSchema, describeViolations, type SchemaCheck } from './schema.ts';
import { isEnrichFailure, type DataRecord, type EnrichContext, type RecordContext, type StreamHeader } from './steps.ts';

/** A record read from the raw topic, as the runtime hands it over. */
export type SourceRecord = {
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly StreamHeader[];
  topic: string;
  partition: number;
  offset: number | bigint;
  timestamp: number | bigint;
};

export type ProcessedOutcome = { kind: 'processed'; value: Buffer; key: Buffer | null; headers: readonly StreamHeader[] };
export type FilteredOutcome = { kind: 'filtered'; rule: string };
export type DeadLetterOutcome = { kind: 'dead-letter'; code: DeadLetterCode; message: string; step: string; details?: unknown };
export type Outcome = ProcessedOutcome | FilteredOutcome | DeadLetterOutcome;
/** A processed record as its JSON text, before it is encoded: step threads write the text straight into their reply. */
export type ProcessedText = { kind: 'processed'; json: string; key: Buffer | null; headers: readonly StreamHeader[] };
export type TextOutcome = ProcessedText | FilteredOutcome | DeadLetterOutcome;

/** Live counts since the pipeline was compiled; recordsIn = processed + filtered + dead-lettered once every process() has settled. */
export type StreamCounters = {
  recordsIn: number;
  processed: number;
  /** Records filtered out, by rule (the filter step's name). */
  filtered: Record<string, number>;
  /** Dead-lettered records, by code. */
  deadLettered: Record<string, number>;
};

export type PipelineOptions = {
  /** Clock for lookup reload checks, in epoch milliseconds. */
  now?: () => number;
  /** Told about problems that do not stop the pipeline (a lookup file that changed but cannot be used). */
  onWarning?: (warning: StreamWarning) => void;
};

export type Pipeline = {
  readonly dataset: ResolvedDataset;
  readonly counters: StreamCounters;
  /** Runs one record through every step. Never rejects for bad data; a rejection is a bug in Oxbow. */
  process(record: SourceRecord): Promise<Outcome>;
  /**
   * Like process(), but hands back the outcome itself when every step finished synchronously (the usual case), which
   * spares the runtime a promise and a few microtask turns per record; a promise only when a step was asynchronous.
   * Never throws or rejects for bad data; a throw or rejection is a bug in Oxbow.
   */
  processNow(record: SourceRecord): Outcome | Promise<Outcome>;
  /** Like processNow(), but a processed record comes as its JSON text, not yet encoded as UTF-8. */
  processText(record: SourceRecord): TextOutcome | Promise<TextOutcome>;
  /** Runs records with up to `concurrency` in flight (default 1); outcomes come back in input order. */
  processBatch(records: readonly SourceRecord[], options?: { concurrency?: number }): Promise<Outcome[]>;
};

type Running = { record: DataRecord; context: RecordContext };
/** `checked`: set by a validate() step, what the output check need not check again (output-check.ts). */
type StepResult = { kind: 'next'; record: DataRecord; checked?: CheckedValues } | FilteredOutcome | DeadLetterOutcome;
type StepRunner = (state: Running) => Promise<StepResult> | StepResult;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function deadLetter(code: DeadLetterCode, step: string, message: string, details?: unknown): DeadLetterOutcome {
  return details === undefined ? { kind: 'dead-letter', code, message, step } : { kind: 'dead-letter', code, message, step, details };
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function toSafeNumber(v: number | bigint, what: string): number {
  const n = Number(v);
  // Checked before the message is made: this runs for every record.
  if (!Number.isSafeInteger(n)) assert(false, `${what} ${String(v)} is not a safe integer`);
  return n;
}

/** Decodes and parses the value; the parse step is always first, so its result is the record the other steps see. */
function parseValue(value: Buffer | null, maxValueBytes: number, step: string): StepResult {
  if (value === null) return deadLetter(DeadLetterCode.TOMBSTONE, step, 'the record has no value (a tombstone)');
  if (value.length > maxValueBytes) {
    return deadLetter(DeadLetterCode.VALUE_TOO_LARGE, step, `the value is ${value.length} bytes; at most ${maxValueBytes} are allowed (maxValueBytes)`, { bytes: value.length, maxValueBytes });
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return deadLetter(DeadLetterCode.INVALID_UTF8, step, `the value is not valid UTF-8 (${value.length} bytes)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return deadLetter(DeadLetterCode.INVALID_JSON, step, `the value is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return deadLetter(DeadLetterCode.NOT_AN_OBJECT, step, `the value is JSON but ${kind(parsed)}, not an object`);
  }
  return { kind: 'next', record: parsed as DataRecord };
}

function encoded(outcome: TextOutcome): Outcome {
  return outcome.kind === 'processed' ? { kind: 'processed', value: Buffer.from(outcome.json, 'utf8'), key: outcome.key, headers: outcome.headers } : outcome;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const TIMED_OUT: unique symbol = Symbol('timed out');

// Runners stay synchronous when the user's function is: a promise and its microtask turns per step and record are a
// large part of the cost of a pipeline of quick steps, so only an asynchronous function pays for one.

/**
 * The context an enrich function gets: the record's envelope, and a signal made on first use (most functions never
 * look at it, and an AbortController per record costs). A class rather than a spread object with a getter, which is
 * several times slower to make, once per record.
 */
class RecordEnrichContext implements EnrichContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly headers: readonly StreamHeader[];
  #controller: AbortController | undefined;

  constructor(context: RecordContext) {
    this.topic = context.topic;
    this.partition = context.partition;
    this.offset = context.offset;
    this.timestamp = context.timestamp;
    this.key = context.key;
    this.headers = context.headers;
  }

  get signal(): AbortSignal {
    return this.controller().signal;
  }

  controller(): AbortController {
    return (this.#controller ??= new AbortController());
  }
}

function enrichRunner(step: Extract<ResolvedStep, { kind: 'enrich' }>): StepRunner {
  const timeout = () =>
    deadLetter(DeadLetterCode.STEP_TIMEOUT, step.name, `enrich "${step.name}" did not finish within ${step.timeoutMs} ms`, { timeoutMs: step.timeoutMs });
  const threw = (e: unknown) => deadLetter(DeadLetterCode.STEP_FAILED, step.name, `enrich "${step.name}" threw ${errorText(e)}`);
  const judge = (result: unknown): StepResult => {
    if (isEnrichFailure(result)) {
      return deadLetter(DeadLetterCode.ENRICH_FAILED, step.name, `enrich "${step.name}" could not enrich the record: ${result.reason}`, result.details);
    }
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      return deadLetter(DeadLetterCode.STEP_FAILED, step.name, `enrich "${step.name}" returned ${kind(result)}; expected a record object or enrichFailure(reason)`);
    }
    return { kind: 'next', record: result as DataRecord };
  };
  const race = async (pending: Promise<unknown>, controller: () => AbortController): Promise<StepResult> => {
    // The losing promise is left to settle on its own; a later rejection must not become an unhandled one.
    pending.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), step.timeoutMs);
    });
    try {
      const raced = await Promise.race([pending, timedOut]);
      if (raced === TIMED_OUT) {
        controller().abort(new Error(`enrich "${step.name}" timed out after ${step.timeoutMs} ms`));
        return timeout();
      }
      return judge(raced);
    } catch (e) {
      return threw(e);
    } finally {
      clearTimeout(timer);
    }
  };
  return ({ record, context }) => {
    const enrichContext = new RecordEnrichContext(context);
    const startedMs = performance.now();
    let returned: unknown;
    try {
      // A synchronous function runs to completion here; it cannot be interrupted, only judged late afterwards.
      returned = step.fn(record, enrichContext);
    } catch (e) {
      return threw(e);
    }
    if (isThenable(returned)) return race(Promise.resolve(returned), () => enrichContext.controller());
    if (performance.now() - startedMs > step.timeoutMs) return timeout();
    return judge(returned);
  };
}

function filterRunner(step: Extract<ResolvedStep, { kind: 'filter' }>): StepRunner {
  const threw = (e: unknown) => deadLetter(DeadLetterCode.STEP_FAILED, step.name, `filter "${step.name}" threw ${errorText(e)}`);
  return ({ record, context }) => {
    const judge = (keep: unknown): StepResult => {
      if (typeof keep !== 'boolean') {
        return deadLetter(DeadLetterCode.STEP_FAILED, step.name, `filter "${step.name}" returned ${kind(keep)}; expected true (keep) or false (filter out)`);
      }
      return keep ? { kind: 'next', record } : { kind: 'filtered', rule: step.name };
    };
    let keep: unknown;
    try {
      keep = step.predicate(record, context);
    } catch (e) {
      return threw(e);
    }
    return isThenable(keep) ? Promise.resolve(keep).then(judge, threw) : judge(keep);
  };
}

function lookupRunner(step: Extract<ResolvedStep, { kind: 'lookup' }>, table: LookupTable): StepRunner {
  const join = (record: DataRecord, { rows, columns }: TableData): StepResult => {
    const value = record[step.on];
    const k = lookupKey(value);
    const row = k === null ? undefined : rows.get(k);
    if (row === undefined) {
      if (step.miss === 'dead-letter') {
        return deadLetter(DeadLetterCode.LOOKUP_MISS, step.name, `lookup "${step.name}": no row of ${step.file} has ${step.key} = ${JSON.stringify(value) ?? 'undefined'} (from field "${step.on}")`, {
          file: step.file,
          on: step.on,
          value: value ?? null,
        });
      }
      for (const c of columns) record[c] = null;
    } else {
      for (const c of columns) record[c] = row[c] ?? null;
    }
    return { kind: 'next', record };
  };
  return ({ record }) => {
    const data = table.currentIfChecked();
    return data !== null ? join(record, data) : table.current().then((d) => join(record, d));
  };
}

/**
 * True when `JSON.parse(JSON.stringify(v))` gives back the same value: plain objects and arrays holding strings,
 * finite numbers, booleans and null. The output check can then look at the record itself instead of a parsed copy.
 */
function isJsonExact(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isJsonExact(v[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      let keys = 0;
      for (const k in v) {
        keys++;
        if (!isJsonExact((v as Record<string, unknown>)[k], depth + 1)) return false;
      }
      // A non-enumerable property is left out of the JSON but still seen by the check.
      return Object.getOwnPropertyNames(v).length === keys;
    }
    default:
      return false;
  }
}

/**
 * isJsonExact for the output object that finish() makes by spreading the record: a new plain object holding only
 * enumerable own properties, so only its values need the walk.
 */
function isOutputJsonExact(output: Record<string, unknown>): boolean {
  for (const k in output) if (!isJsonExact(output[k], 1)) return false;
  return true;
}

/**
 * Runs one record through a compiled pipeline as the runtime does, without a promise when every step was synchronous.
 * An exception out of the pipeline is a bug in Oxbow: it is logged, and the record becomes a dead letter
 * (OXBOW_STREAM_STEP_FAILED, step "runtime") rather than being lost.
 */
export function processGuarded(pipeline: Pipeline, source: SourceRecord, log: (line: string) => void): Outcome | Promise<Outcome> {
  const outcome = processTextGuarded(pipeline, source, log);
  return outcome instanceof Promise ? outcome.then(encoded) : encoded(outcome);
}

/** processGuarded with a processed record as its JSON text (Pipeline.processText), as step threads send it back. */
export function processTextGuarded(pipeline: Pipeline, source: SourceRecord, log: (line: string) => void): TextOutcome | Promise<TextOutcome> {
  try {
    const outcome = pipeline.processText(source);
    return outcome instanceof Promise ? outcome.catch((err: unknown) => pipelineBug(err, source, log)) : outcome;
  } catch (err) {
    return pipelineBug(err, source, log);
  }
}

function pipelineBug(err: unknown, source: SourceRecord, log: (line: string) => void): DeadLetterOutcome {
  log(`bug: the pipeline threw for ${source.topic}/${source.partition}@${source.offset}: ${describeError(err)}`);
  return { kind: 'dead-letter', code: DeadLetterCode.STEP_FAILED, message: `internal error in the stream job: ${describeError(err)}`, step: 'runtime' };
}

/**
 * Compiles a dataset's steps. Loads its lookup tables (a table that cannot be loaded throws StreamError
 * OXBOW_STREAM_LOOKUP_UNREADABLE) and compiles its schemas, so that process() only ever deals with data.
 */
export async function compilePipeline(dataset: ResolvedDataset, options: PipelineOptions = {}): Promise<Pipeline> {
  const now = options.now ?? Date.now;
  const onWarning = options.onWarning ?? (() => undefined);
  const first = dataset.steps[0];
  assert(first?.kind === 'parse', 'a resolved dataset starts with its parse step');
  const parseStep = first;
  const runners: StepRunner[] = [];
  const processed = processedSchema(dataset);
  for (const step of dataset.steps.slice(1)) {
    switch (step.kind) {
      case 'parse':
        assert(false, 'parse is only the first step');
        break;
      case 'validate': {
        const check = compileSchema(step.schema);
        const plan = CarryPlan.of(step.schema, processed);
        runners.push(({ record }) => {
          const violations = check(record);
          if (violations.length === 0) return plan === null ? { kind: 'next', record } : { kind: 'next', record, checked: plan.snapshot(record) };
          return deadLetter(DeadLetterCode.SCHEMA_VIOLATION, step.name, describeViolations(violations), { violations });
        });
        break;
      }
      case 'filter':
        runners.push(filterRunner(step));
        break;
      case 'enrich':
        runners.push(enrichRunner(step));
        break;
      case 'lookup': {
        const table = new LookupTable({ dataset: dataset.name, step: step.name, file: step.file, format: step.format, key: step.key, fields: step.fields, reloadCheckMs: step.reloadCheckMs, now, onWarning });
        await table.open();
        runners.push(lookupRunner(step, table));
        break;
      }
    }
  }
  const outputCheck: SchemaCheck = compileSchema(processed);
  const lastStep = dataset.steps[dataset.steps.length - 1]!.name;
  const counters: StreamCounters = { recordsIn: 0, processed: 0, filtered: {}, deadLettered: {} };

  function run(source: SourceRecord): TextOutcome | Promise<TextOutcome> {
    const parsed = parseValue(source.value, parseStep.maxValueBytes, parseStep.name);
    if (parsed.kind !== 'next') return parsed;
    const context: RecordContext = {
      topic: source.topic,
      partition: source.partition,
      offset: toSafeNumber(source.offset, 'offset'),
      timestamp: toSafeNumber(source.timestamp, 'timestamp'),
      key: source.key,
      headers: source.headers,
    };
    return runFrom(0, parsed.record, context, source, null);
  }

  /** Runs the steps from runners[first] on; goes asynchronous only at a step that returned a promise. */
  function runFrom(first: number, start: DataRecord, context: RecordContext, source: SourceRecord, checkedBefore: CheckedValues | null): TextOutcome | Promise<TextOutcome> {
    let record = start;
    let checked = checkedBefore;
    for (let i = first; i < runners.length; i++) {
      const r = runners[i]!({ record, context });
      if (r instanceof Promise) return r.then((settled) => (settled.kind === 'next' ? runFrom(i + 1, settled.record, context, source, settled.checked ?? checked) : settled));
      if (r.kind !== 'next') return r;
      record = r.record;
      if (r.checked !== undefined) checked = r.checked;
    }
    return finish(record, context, source, checked);
  }

  function finish(record: DataRecord, context: RecordContext, source: SourceRecord, checked: CheckedValues | null): TextOutcome {
    // Lineage goes last, so it wins over a field of the same name from the raw record; the check then sees exactly
    // what will be written: the record itself when JSON keeps it as it is, else its JSON round trip (undefined
    // dropped, NaN turned into null, and so on).
    const output = { ...record, [SOURCE_FIELD]: { topic: context.topic, partition: context.partition, offset: context.offset } };
    let json: string;
    try {
      json = JSON.stringify(output);
    } catch (e) {
      return deadLetter(DeadLetterCode.OUTPUT_SCHEMA_VIOLATION, lastStep, `after step "${lastStep}" the record cannot be written as JSON: ${errorText(e)}`);
    }
    const value = (isOutputJsonExact(output) ? output : JSON.parse(json)) as Record<string, unknown>;
    const violations = ((checked !== null && checked.plan.checkFor(checked, value)) || outputCheck)(value);
    if (violations.length > 0) {
      return deadLetter(DeadLetterCode.OUTPUT_SCHEMA_VIOLATION, lastStep, `after step "${lastStep}" the record does not match the processed schema: ${describeViolations(violations)}`, {
        violations,
      });
    }
    return { kind: 'processed', json, key: source.key, headers: source.headers };
  }

  function count(outcome: TextOutcome): TextOutcome {
    if (outcome.kind === 'processed') counters.processed++;
    else if (outcome.kind === 'filtered') counters.filtered[outcome.rule] = (counters.filtered[outcome.rule] ?? 0) + 1;
    else counters.deadLettered[outcome.code] = (counters.deadLettered[outcome.code] ?? 0) + 1;
    return outcome;
  }

  function processText(source: SourceRecord): TextOutcome | Promise<TextOutcome> {
    counters.recordsIn++;
    const outcome = run(source);
    return outcome instanceof Promise ? outcome.then(count) : count(outcome);
  }

  function processNow(source: SourceRecord): Outcome | Promise<Outcome> {
    const outcome = processText(source);
    return outcome instanceof Promise ? outcome.then(encoded) : encoded(outcome);
  }

  async function processRecord(source: SourceRecord): Promise<Outcome> {
    return processNow(source);
  }

  async function processBatch(records: readonly SourceRecord[], batchOptions: { concurrency?: number } = {}): Promise<Outcome[]> {
    const concurrency = batchOptions.concurrency ?? 1;
    assert(Number.isInteger(concurrency) && concurrency >= 1, `concurrency ${concurrency} must be a whole number, at least 1`);
    const outcomes: Outcome[] = new Array<Outcome>(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        const outcome = processNow(records[i]!);
        outcomes[i] = outcome instanceof Promise ? await outcome : outcome;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
    return outcomes;
  }

  return { dataset, counters, process: processRecord, processNow, processText, processBatch };
}
