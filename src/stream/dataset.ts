// Dataset declarations: what oxbow.config.ts may write, and their validation at start into ResolvedDataset.
import { statSync } from 'node:fs';
import path from 'node:path';
import { compileSchema } from './schema.ts';
import type { EnrichFunction, FilterPredicate, JsonSchema, LookupFormat, LookupMiss, StepDeclaration } from './steps.ts';

/** A dataset as declared in `defineLake({ datasets: { <name>: {...} } })`. */
export type DatasetDeclaration = {
  /** JSON Schema (draft 2020-12) of a processed record; its top level must be `type: 'object'`. */
  schema: JsonSchema;
  /** Schema of a raw record, used by validate() steps that name no schema; the processed schema when left out. */
  rawSchema?: JsonSchema;
  /** The field holding a record's event time (ISO 8601 string or epoch milliseconds); the Kafka timestamp when left out. */
  eventTimeField?: string;
  /** Topic names; `<dataset>.raw`, `<dataset>.processed` and `<dataset>.dlq` by default. */
  topics?: { raw?: string; processed?: string; dlq?: string };
  /** The steps, in order; parse() is added first when left out. */
  steps?: StepDeclaration[];
};

export type ResolvedParseStep = { kind: 'parse'; name: string; maxValueBytes: number };
export type ResolvedValidateStep = { kind: 'validate'; name: string; schema: JsonSchema };
export type ResolvedFilterStep = { kind: 'filter'; name: string; predicate: FilterPredicate };
export type ResolvedEnrichStep = { kind: 'enrich'; name: string; fn: EnrichFunction; timeoutMs: number };
export type ResolvedLookupStep = {
  kind: 'lookup';
  name: string;
  /** Absolute path (a relative one is resolved against the working directory at start). */
  file: string;
  format: LookupFormat;
  key: string;
  on: string;
  fields: string[] | null;
  miss: LookupMiss;
  reloadCheckMs: number;
};
export type ResolvedStep = ResolvedParseStep | ResolvedValidateStep | ResolvedFilterStep | ResolvedEnrichStep | ResolvedLookupStep;

export type ResolvedDataset = {
  name: string;
  topics: { raw: string; processed: string; dlq: string };
  schema: JsonSchema;
  rawSchema: JsonSchema | null;
  eventTimeField: string | null;
  /** Always starts with the parse step. */
  steps: ResolvedStep[];
};

/** A mistake in a dataset declaration: where (`datasets.orders.steps[2] (lookup "countries")`) and what is wrong. */
export type DatasetProblem = { path: string; message: string };

export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const DEFAULT_ENRICH_TIMEOUT_MS = 5000;
export const DEFAULT_RELOAD_CHECK_MS = 1000;
/** The field of every processed record that says where it came from (see docs/stream.md, Lineage). */
export const SOURCE_FIELD = '_source';

const DATASET_KEYS = ['schema', 'rawSchema', 'eventTimeField', 'topics', 'steps'];
const STEP_KEYS: Record<StepDeclaration['kind'], string[]> = {
  parse: ['kind', 'name', 'maxValueBytes'],
  validate: ['kind', 'name', 'schema'],
  filter: ['kind', 'name', 'predicate'],
  enrich: ['kind', 'name', 'fn', 'timeoutMs'],
  lookup: ['kind', 'name', 'file', 'format', 'key', 'on', 'fields', 'miss', 'reloadCheckMs'],
};
const LOOKUP_FORMATS: readonly string[] = ['csv', 'json', 'ndjson'] satisfies LookupFormat[];
const LOOKUP_MISSES: readonly string[] = ['null', 'dead-letter'] satisfies LookupMiss[];
const STEP_NAME = /^[A-Za-z0-9_.-]+$/;
// Kafka's topic name rule, kept short enough for the `.processed` suffix of a default name.
const DATASET_NAME = /^[A-Za-z0-9._-]{1,239}$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWholeNumber = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

function schemaProblem(schema: unknown): string | null {
  if (!isObject(schema)) return `${show(schema)} is not a JSON Schema; expected an object`;
  try {
    compileSchema(schema);
    return null;
  } catch (e) {
    return `is not a valid JSON Schema (draft 2020-12): ${(e as Error).message}`;
  }
}

function eventTimeProblem(field: string, schema: JsonSchema): string | null {
  const props = isObject(schema.properties) ? schema.properties : {};
  if (!Object.hasOwn(props, field)) {
    const names = Object.keys(props);
    return `"${field}" is not a property of the schema; properties: ${names.length > 0 ? names.join(', ') : '(none)'}`;
  }
  const prop = props[field];
  const type = isObject(prop) ? prop.type : undefined;
  if (type === undefined) return null;
  const types = Array.isArray(type) ? type : [type];
  if (!types.some((t) => t === 'string' || t === 'integer' || t === 'number')) {
    return `"${field}" has type ${show(type)} in the schema; an event time is a string (ISO 8601) or an integer (epoch milliseconds)`;
  }
  return null;
}

function resolveStep(raw: unknown, where: string, dataset: { rawSchema: JsonSchema | null; schema: JsonSchema }, cwd: string, problems: DatasetProblem[]): ResolvedStep | null {
  const problem = (message: string) => {
    problems.push({ path: where, message });
    return null;
  };
  if (!isObject(raw) || typeof raw.kind !== 'string' || !Object.hasOwn(STEP_KEYS, raw.kind)) {
    return problem(`${show(raw)} is not a step; create steps with parse(), validate(), filter(), enrich() or lookup()`);
  }
  const kind = raw.kind as StepDeclaration['kind'];
  const unknown = Object.keys(raw).filter((k) => !STEP_KEYS[kind].includes(k));
  if (unknown.length > 0) return problem(`unknown option${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; a ${kind} step takes ${STEP_KEYS[kind].filter((k) => k !== 'kind').join(', ')}`);
  const name = raw.name;
  if (typeof name !== 'string' || !STEP_NAME.test(name)) return problem(`name ${show(name)} is not allowed; expected letters, digits, ".", "_" or "-"`);
  const before = problems.length;
  switch (kind) {
    case 'parse': {
      const maxValueBytes = raw.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
      if (!isWholeNumber(maxValueBytes, 1)) return problem(`maxValueBytes: ${show(maxValueBytes)} is not allowed; expected a whole number of bytes, at least 1`);
      return { kind, name, maxValueBytes };
    }
    case 'validate': {
      if (raw.schema !== undefined) {
        const p = schemaProblem(raw.schema);
        if (p !== null) return problem(`schema ${p}`);
      }
      return { kind, name, schema: (raw.schema as JsonSchema | undefined) ?? dataset.rawSchema ?? dataset.schema };
    }
    case 'filter': {
      if (typeof raw.predicate !== 'function') return problem(`predicate: ${show(raw.predicate)} is not a function; expected (record, context) => boolean`);
      return { kind, name, predicate: raw.predicate as FilterPredicate };
    }
    case 'enrich': {
      if (typeof raw.fn !== 'function') problem(`fn: ${show(raw.fn)} is not a function; expected (record, context) => record or enrichFailure(reason)`);
      const timeoutMs = raw.timeoutMs ?? DEFAULT_ENRICH_TIMEOUT_MS;
      if (!isWholeNumber(timeoutMs, 1)) problem(`timeoutMs: ${show(timeoutMs)} is not allowed; expected a whole number of milliseconds, at least 1`);
      if (problems.length > before) return null;
      return { kind, name, fn: raw.fn as EnrichFunction, timeoutMs: timeoutMs as number };
    }
    case 'lookup': {
      const { file, format, key, on, fields, miss } = raw;
      const reloadCheckMs = raw.reloadCheckMs ?? DEFAULT_RELOAD_CHECK_MS;
      let absolute = '';
      if (typeof file !== 'string' || file === '') problem(`file: ${show(file)} is not allowed; expected the path of the table file`);
      else {
        absolute = path.resolve(cwd, file);
        let isFile = false;
        try {
          isFile = statSync(absolute).isFile();
        } catch {
          problem(`file ${absolute} does not exist`);
        }
        if (!isFile && problems.length === before) problem(`file ${absolute} is not a regular file`);
      }
      if (typeof format !== 'string' || !LOOKUP_FORMATS.includes(format)) problem(`format: ${show(format)} is not allowed; expected one of ${LOOKUP_FORMATS.map((f) => `"${f}"`).join(', ')}`);
      for (const [k, v] of [['key', key], ['on', on]] as const) {
        if (typeof v !== 'string' || v === '') problem(`${k}: ${show(v)} is not allowed; expected a ${k === 'key' ? 'column of the table' : 'field of the record'}`);
      }
      if (fields !== undefined) {
        if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === 'string' && f !== '')) {
          problem(`fields: ${show(fields)} is not allowed; expected a non-empty list of column names`);
        } else if (new Set(fields).size !== fields.length) {
          problem(`fields: ${show(fields)} names a column twice`);
        }
      }
      if (typeof miss !== 'string' || !LOOKUP_MISSES.includes(miss)) problem(`miss: ${show(miss)} is not allowed; expected "null" (set the fields to null) or "dead-letter"`);
      if (!isWholeNumber(reloadCheckMs, 0)) problem(`reloadCheckMs: ${show(reloadCheckMs)} is not allowed; expected a whole number of milliseconds, at least 0`);
      if (problems.length > before) return null;
      return {
        kind,
        name,
        file: absolute,
        format: format as LookupFormat,
        key: key as string,
        on: on as string,
        fields: (fields as string[] | undefined) ?? null,
        miss: miss as LookupMiss,
        reloadCheckMs: reloadCheckMs as number,
      };
    }
  }
}

function stepLabel(raw: unknown): string {
  if (isObject(raw) && typeof raw.kind === 'string') return typeof raw.name === 'string' ? ` (${raw.kind} "${raw.name}")` : ` (${raw.kind})`;
  return '';
}

function resolveDataset(name: string, raw: unknown, cwd: string, problems: DatasetProblem[]): ResolvedDataset | null {
  const at = `datasets.${name}`;
  const before = problems.length;
  const problem = (where: string, message: string) => problems.push({ path: where, message });
  if (!DATASET_NAME.test(name)) problem(at, `the dataset name is not allowed; expected 1 to 239 letters, digits, ".", "_" or "-" (it names topics)`);
  if (!isObject(raw)) {
    problem(at, `${show(raw)} is not a dataset; expected an object with schema, eventTimeField and steps`);
    return null;
  }
  const unknown = Object.keys(raw).filter((k) => !DATASET_KEYS.includes(k));
  if (unknown.length > 0) problem(at, `unknown key${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; a dataset takes ${DATASET_KEYS.join(', ')}`);

  const schemaOk = raw.schema === undefined ? (problem(`${at}.schema`, 'is missing; every dataset needs the JSON Schema of its processed records'), false) : (() => {
    const p = schemaProblem(raw.schema);
    if (p !== null) return (problem(`${at}.schema`, p), false);
    const s = raw.schema as JsonSchema;
    if (s.type !== 'object') return (problem(`${at}.schema`, `type is ${show(s.type)}; a processed record is an object, so the schema needs type: "object"`), false);
    if (isObject(s.properties) && Object.hasOwn(s.properties, SOURCE_FIELD)) {
      return (problem(`${at}.schema`, `declares "${SOURCE_FIELD}", which Oxbow adds to every processed record (lineage); remove it from the schema`), false);
    }
    return true;
  })();
  const schema = schemaOk ? (raw.schema as JsonSchema) : {};
  let rawSchema: JsonSchema | null = null;
  if (raw.rawSchema !== undefined) {
    const p = schemaProblem(raw.rawSchema);
    if (p !== null) problem(`${at}.rawSchema`, p);
    else rawSchema = raw.rawSchema as JsonSchema;
  }
  let eventTimeField: string | null = null;
  if (raw.eventTimeField !== undefined) {
    if (typeof raw.eventTimeField !== 'string' || raw.eventTimeField === '') problem(`${at}.eventTimeField`, `${show(raw.eventTimeField)} is not allowed; expected a field name`);
    else {
      eventTimeField = raw.eventTimeField;
      const p = schemaOk ? eventTimeProblem(eventTimeField, schema) : null;
      if (p !== null) problem(`${at}.eventTimeField`, p);
    }
  }

  const topics = { raw: `${name}.raw`, processed: `${name}.processed`, dlq: `${name}.dlq` };
  if (raw.topics !== undefined) {
    if (!isObject(raw.topics)) problem(`${at}.topics`, `${show(raw.topics)} is not allowed; expected { raw?, processed?, dlq? }`);
    else {
      for (const [k, v] of Object.entries(raw.topics)) {
        if (!(k in topics)) problem(`${at}.topics`, `unknown key ${k}; expected raw, processed or dlq`);
        else if (v === undefined) continue;
        else if (typeof v !== 'string' || !TOPIC_NAME.test(v) || v === '.' || v === '..') {
          problem(`${at}.topics.${k}`, `${show(v)} is not a topic name; expected 1 to 249 letters, digits, ".", "_" or "-"`);
        } else topics[k as keyof typeof topics] = v;
      }
      if (new Set(Object.values(topics)).size !== 3) problem(`${at}.topics`, `raw, processed and dlq must be three different topics; got ${show(topics)}`);
    }
  }

  const steps: ResolvedStep[] = [];
  const rawSteps = raw.steps ?? [];
  if (!Array.isArray(rawSteps)) problem(`${at}.steps`, `${show(rawSteps)} is not allowed; expected a list of steps`);
  else {
    const names = new Map<string, number>();
    rawSteps.forEach((s: unknown, i) => {
      const where = `${at}.steps[${i}]${stepLabel(s)}`;
      const step = resolveStep(s, where, { rawSchema, schema }, cwd, problems);
      if (step === null) return;
      if (step.kind === 'parse' && i !== 0) return problem(where, 'parse() must be the first step (it turns the bytes into a record)');
      const first = names.get(step.name);
      if (first !== undefined) {
        return problem(where, `step name "${step.name}" is already used by steps[${first}]; give each step its own name${step.kind === 'validate' ? ` (validate({ name: '...' }))` : ''}`);
      }
      names.set(step.name, i);
      steps.push(step);
    });
    if (steps[0]?.kind !== 'parse') {
      if (names.has('parse')) problem(`${at}.steps`, 'the name "parse" is kept for the parse step');
      steps.unshift({ kind: 'parse', name: 'parse', maxValueBytes: DEFAULT_MAX_VALUE_BYTES });
    }
  }
  if (problems.length > before) return null;
  return { name, topics, schema, rawSchema, eventTimeField, steps };
}

/**
 * Checks the `datasets` section of a lake declaration and fills in defaults. Every mistake is reported, each with the
 * dataset, the step and what is wrong, so a config with three mistakes needs one fix-and-restart, not three.
 * Relative lookup files are resolved against `cwd`.
 */
export function resolveDatasets(input: unknown, cwd: string = process.cwd()): { ok: true; datasets: Record<string, ResolvedDataset> } | { ok: false; problems: DatasetProblem[] } {
  if (input === undefined) return { ok: true, datasets: {} };
  if (!isObject(input)) return { ok: false, problems: [{ path: 'datasets', message: `${show(input)} is not allowed; expected an object of datasets by name` }] };
  const problems: DatasetProblem[] = [];
  const datasets: Record<string, ResolvedDataset> = {};
  const topicOwner = new Map<string, string>();
  for (const [name, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const d = resolveDataset(name, raw, cwd, problems);
    if (d === null) continue;
    for (const t of Object.values(d.topics)) {
      const owner = topicOwner.get(t);
      if (owner !== undefined) problems.push({ path: `datasets.${name}.topics`, message: `topic ${t} is already used by dataset ${owner}` });
      else topicOwner.set(t, name);
    }
    datasets[name] = d;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, datasets };
}

/** The schema of a value on the processed topic: the dataset's schema with the lineage field added and required. */
export function processedSchema(dataset: ResolvedDataset): JsonSchema {
  const s = dataset.schema;
  const properties = isObject(s.properties) ? s.properties : {};
  const required = Array.isArray(s.required) ? (s.required as unknown[]) : [];
  return {
    ...s,
    properties: {
      ...properties,
      [SOURCE_FIELD]: {
        type: 'object',
        properties: { topic: { type: 'string' }, partition: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 0 } },
        required: ['topic', 'partition', 'offset'],
        additionalProperties: false,
      },
    },
    required: [...required, SOURCE_FIELD],
  };
}
