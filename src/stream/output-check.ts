// The processed-schema check at the end of a pipeline, without checking again what a validate() step already checked.
//
// A field that a validate() step found valid, under a sub-schema identical to the processed schema's, and whose value
// is still the same primitive when the record is written, would pass the processed schema's check of that field too:
// JSON Schema checks of a primitive value are pure. The output is then checked against a variant of the processed
// schema in which those fields' sub-schemas are `true`; everything else (required, additionalProperties, the fields
// the steps added or changed, the lineage) is checked as before, and the violations found are the same.
//
// This only applies where a field's validity depends on its own value alone: the processed schema's top level may use
// only the keywords below, and neither sub-schema of a carried field may refer elsewhere ($ref and the like).
import { compileSchema, type SchemaCheck } from './schema.ts';
import type { JsonSchema } from './steps.ts';

/** Keywords at the processed schema's top level under which a property's sub-schema alone decides its validity. */
const INDEPENDENT_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  '$id',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
]);
const REFERENCE_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef', '$anchor', '$dynamicAnchor', '$recursiveAnchor', '$id'];
/** Carried fields are tracked in a bit mask of this many bits at most. */
const MAX_CARRIED = 30;
/** Variants of the processed schema compiled at most; beyond that the full check is used. */
const MAX_VARIANTS = 32;
/** The value of a carried field that was not a primitive (or missing) when checked: never equal to anything. */
const NOT_CARRIED: unique symbol = Symbol('not carried');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

function refersElsewhere(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(refersElsewhere);
  if (!isObject(schema)) return false;
  return REFERENCE_KEYWORDS.some((k) => Object.hasOwn(schema, k)) || Object.values(schema).some(refersElsewhere);
}

/** What a validate() step hands to the output check: the carried fields' values as it found them valid. */
export type CheckedValues = { readonly plan: CarryPlan; readonly values: unknown[] };

/** For one validate() step: the fields whose check the processed schema's check may skip, and the variants it uses. */
export class CarryPlan {
  readonly fields: readonly string[];
  readonly #processed: JsonSchema;
  readonly #variants = new Map<number, SchemaCheck>();
  #lastMask = 0;
  #lastCheck: SchemaCheck | null = null;

  private constructor(processed: JsonSchema, fields: string[]) {
    this.#processed = processed;
    this.fields = fields;
  }

  /** The plan of a validate() step against `stepSchema`, or null when no field can be carried. */
  static of(stepSchema: JsonSchema, processed: JsonSchema): CarryPlan | null {
    if (!Object.keys(processed).every((k) => INDEPENDENT_KEYWORDS.has(k))) return null;
    const mine = stepSchema.properties;
    const theirs = processed.properties;
    if (!isObject(mine) || !isObject(theirs)) return null;
    const fields = Object.keys(theirs)
      .filter((f) => Object.hasOwn(mine, f) && deepEqual(mine[f], theirs[f]) && !refersElsewhere(theirs[f]))
      .slice(0, MAX_CARRIED);
    return fields.length === 0 ? null : new CarryPlan(processed, fields);
  }

  /** The carried fields' values of a record that passed the step. */
  snapshot(record: Record<string, unknown>): CheckedValues {
    const values = new Array<unknown>(this.fields.length);
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i]!;
      const v = Object.hasOwn(record, f) ? record[f] : NOT_CARRIED;
      values[i] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : NOT_CARRIED;
    }
    return { plan: this, values };
  }

  /**
   * The check for `output`: the processed schema without the fields that still hold the values checked, or null when
   * no field is left unchanged (or too many variants exist already): then the caller uses the full check.
   */
  checkFor(checked: CheckedValues, output: Record<string, unknown>): SchemaCheck | null {
    let mask = 0;
    for (let i = 0; i < this.fields.length; i++) {
      const v = checked.values[i];
      const f = this.fields[i]!;
      if (v !== NOT_CARRIED && output[f] === v && Object.hasOwn(output, f)) mask |= 1 << i;
    }
    if (mask === 0) return null;
    // Records of a stream mostly leave the same fields unchanged: the last variant is kept at hand.
    if (mask === this.#lastMask) return this.#lastCheck;
    let check = this.#variants.get(mask);
    if (check === undefined) {
      if (this.#variants.size >= MAX_VARIANTS) return null;
      const properties = { ...(this.#processed.properties as Record<string, unknown>) };
      for (let i = 0; i < this.fields.length; i++) if (mask & (1 << i)) properties[this.fields[i]!] = true;
      check = compileSchema({ ...this.#processed, properties });
      this.#variants.set(mask, check);
    }
    this.#lastMask = mask;
    this.#lastCheck = check;
    return check;
  }
}
