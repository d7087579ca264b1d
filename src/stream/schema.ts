// JSON Schema (draft 2020-12) validation with every violation listed as a path and a problem.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from './steps.ts';

const addFormats = addFormatsModule.default;

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
