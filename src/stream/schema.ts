// JSON Schema (draft 2020-12) validation with every violation listed as a path and a problem.
import { Ajv2020, type ErrorObject, type Format, type FormatDefinition } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { isDate, isDateTime, isTime } from './date-time.ts';
import type { JsonSchema } from './steps.ts';

const addFormats = addFormatsModule.default;

/** date, time and date-time without regular expressions (date-time.ts); they keep ajv-formats' way of comparing. */
const CHARACTER_FORMATS: Record<string, Format> = {
  date: { ...(fullFormats.date as FormatDefinition<string>), validate: isDate },
  time: { ...(fullFormats.time as FormatDefinition<string>), validate: isTime },
  'date-time': { ...(fullFormats['date-time'] as FormatDefinition<string>), validate: isDateTime },
};

/**
 * The formats checked by code rather than one regular expression (date, time, date-time, uri, …), each remembering
 * its last value and answer. A record's field is usually checked twice in a row, by a validate() step and by the
 * processed schema, and the date-time check is a large part of validating a record; formats are pure functions.
 * Shared by every compiled schema, since the two checks of one record come from different validator instances.
 */
const REMEMBERING_FORMATS: [string, Format][] = Object.entries({ ...fullFormats, ...CHARACTER_FORMATS }).flatMap(([name, format]): [string, Format][] => {
  const remember = (check: (value: never) => boolean) => {
    let last: unknown;
    let answer = false;
    let used = false;
    return (value: never) => {
      if (used && value === last) return answer;
      answer = check(value);
      last = value;
      used = true;
      return answer;
    };
  };
  if (typeof format === 'function') return [[name, remember(format as (value: never) => boolean) as Format]];
  if (typeof format === 'object' && format !== null && !(format instanceof RegExp) && typeof format.validate === 'function' && format.async !== true) {
    return [[name, { ...format, validate: remember(format.validate as (value: never) => boolean) } as Format]];
  }
  return [];
});

export type Violation = { path: string; problem: string };
export type SchemaCheck = (value: unknown) => Violation[];

/**
 * Compiles a schema into a check that returns every violation (empty when the value matches).
 * Throws when the schema itself is invalid; unknown keywords are refused, so a misspelt "requried" is caught at start.
 * Each schema gets its own validator instance, so two schemas with the same $id do not collide.
 */
export function compileSchema(schema: JsonSchema): SchemaCheck {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, allowUnionTypes: true });
  addFormats(ajv);
  for (const [name, format] of REMEMBERING_FORMATS) ajv.addFormat(name, format);
  const validateFn = ajv.compile(schema);
  return (value) => (validateFn(value) ? [] : (validateFn.errors ?? []).map(violation));
}

function violation(e: ErrorObject): Violation {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: `${at}/${String(params.missingProperty)}`, problem: 'is required' };
    case 'additionalProperties':
      return { path: `${at}/${String(params.additionalProperty)}`, problem: 'is not allowed (not a property of the schema)' };
    case 'unevaluatedProperties':
      return { path: `${at}/${String(params.unevaluatedProperty)}`, problem: 'is not allowed (not a property of the schema)' };
    case 'enum':
      return { path: at || '/', problem: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path: at || '/', problem: e.message ?? e.keyword };
  }
}

/** "2 schema violations: /amount must be >= 0; /currency is required". */
export function describeViolations(violations: readonly Violation[]): string {
  const list = violations.map((v) => `${v.path} ${v.problem}`).join('; ');
  return `${violations.length} schema violation${violations.length === 1 ? '' : 's'}: ${list}`;
}
