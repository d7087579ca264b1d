// The output check skips fields a validate() step already found valid only while they hold the values it checked;
// the outcome is always the one the full processed-schema check gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePipeline, compileSchema, enrich, validate, type DataRecord } from '../../src/stream/index.ts';
import { CarryPlan } from '../../src/stream/output-check.ts';
import { dataset, json, raw } from './helpers.ts';

const rawSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^o-[0-9]+$' },
    qty: { type: 'integer', minimum: 1 },
    at: { type: 'string', format: 'date-time' },
    tags: { type: 'array', items: { type: 'string' } },
    price: { type: 'number', minimum: 0 },
  },
  required: ['id', 'qty', 'at'],
  additionalProperties: false,
};
// price is stricter in the processed schema than in the raw one, so a valid raw price is no proof.
const schema = {
  type: 'object',
  properties: { ...rawSchema.properties, price: { type: 'number', minimum: 1 }, total: { type: 'number' } },
  required: ['id', 'qty', 'at', 'total'],
  additionalProperties: false,
};

test('a field is carried only when both schemas check it the same way and nothing else at the top level can', () => {
  const processed = { ...schema, properties: { ...schema.properties, _source: { type: 'object' } } };
  assert.deepEqual(CarryPlan.of(rawSchema, processed)?.fields, ['id', 'qty', 'at', 'tags']);
  assert.equal(CarryPlan.of(rawSchema, { ...processed, allOf: [{ required: ['price'] }] }), null, 'a combinator at the top level');
  assert.equal(CarryPlan.of(rawSchema, { ...processed, dependentSchemas: { qty: { required: ['price'] } } }), null);
  const withRef = { ...processed, $defs: { id: { type: 'string' } }, properties: { ...processed.properties, id: { $ref: '#/$defs/id' } } };
  assert.deepEqual(CarryPlan.of({ ...rawSchema, properties: { ...rawSchema.properties, id: { $ref: '#/$defs/id' } } }, withRef)?.fields, ['qty', 'at', 'tags']);
  assert.equal(CarryPlan.of({ type: 'object' }, processed), null, 'a step schema without properties carries nothing');
});

test('changes after validate() are checked: a carried field changed to a bad value, a removed required field, an array changed in place', async () => {
  const changes: Record<string, (r: DataRecord) => DataRecord> = {
    none: (r) => r,
    badId: (r) => ({ ...r, id: 'x-1' }),
    goodId: (r) => ({ ...r, id: 'o-99' }),
    zeroQty: (r) => ({ ...r, qty: 0 }),
    noAt: ({ at: _at, ...rest }) => rest,
    badAt: (r) => ({ ...r, at: '2026-02-30T00:00:00Z' }),
    tagInPlace: (r) => ((r.tags as unknown[]).push(7), r),
    cheap: (r) => r,
    extra: (r) => ({ ...r, other: 1 }),
  };
  const names = Object.keys(changes);
  const pipeline = await compilePipeline(
    dataset('carry', {
      schema,
      rawSchema,
      // Record i gets the i-th change.
      steps: [validate(), enrich('change', (r, c) => changes[names[c.offset]!]!(r)), enrich('total', (r) => ({ ...r, total: (r.qty as number) * 2 }))],
    }),
  );
  // The same outputs through the full check, as a reference.
  const full = compileSchema({ ...schema, properties: { ...schema.properties, _source: { type: 'object' } } });
  const outcomes: string[] = [];
  for (const [i, name] of names.entries()) {
    const record = { id: 'o-1', qty: 2, at: '2026-01-01T00:00:00Z', tags: ['a'], price: name === 'cheap' ? 0.5 : 3 };
    const o = await pipeline.process(raw(i, record));
    outcomes.push(o.kind === 'processed' ? 'processed' : o.kind === 'dead-letter' ? o.message : o.kind);
    if (o.kind === 'processed') assert.deepEqual(full(json(o.value)), [], `${name}: the full check agrees`);
  }
  assert.deepEqual(outcomes, [
    'processed',
    'after step "total" the record does not match the processed schema: 1 schema violation: /id must match pattern "^o-[0-9]+$"',
    'processed',
    'after step "total" the record does not match the processed schema: 1 schema violation: /qty must be >= 1',
    'after step "total" the record does not match the processed schema: 1 schema violation: /at is required',
    'after step "total" the record does not match the processed schema: 1 schema violation: /at must match format "date-time"',
    'after step "total" the record does not match the processed schema: 1 schema violation: /tags/1 must be string',
    'after step "total" the record does not match the processed schema: 1 schema violation: /price must be >= 1',
    'after step "total" the record does not match the processed schema: 1 schema violation: /other is not allowed (not a property of the schema)',
  ]);
});
