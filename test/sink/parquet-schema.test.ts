// JSON Schema to Parquet column types: every mapping in docs/sink.md, lineage columns, and refusals that name the path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapJsonSchema, SinkError } from '../../src/sink/index.ts';

const source = {
  type: 'object',
  properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' } },
  required: ['topic', 'partition', 'offset'],
  additionalProperties: false,
};

test('maps each JSON Schema type to its column type, with lineage columns last', () => {
  const mapping = mapJsonSchema(
    {
      type: 'object',
      properties: {
        id: { type: 'string' },
        qty: { type: 'integer' },
        price: { type: ['number', 'null'] },
        paid: { type: 'boolean' },
        at: { type: 'string', format: 'date-time' },
        day: { type: 'string', format: 'date' },
        ts: { type: 'integer' },
        address: { type: 'object', properties: { city: { type: 'string' }, 'zip code': { type: 'string' } } },
        tags: { type: 'array', items: { type: 'string' } },
        lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, n: { type: 'integer' } } } },
        extra: { type: 'object' },
        anything: {},
        status: { enum: ['new', 'paid', null] },
        amount: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        ratio: { type: ['integer', 'number'] },
        _source: source,
      },
      required: ['id', 'qty', 'paid', 'ts', '_source'],
    },
    { eventTimeField: 'ts' },
  );
  assert.deepEqual(
    mapping.columns.map((c) => [c.name, c.duckType, c.nullable, c.role]),
    [
      ['id', 'VARCHAR', false, 'value'],
      ['qty', 'BIGINT', false, 'value'],
      ['price', 'DOUBLE', true, 'value'],
      ['paid', 'BOOLEAN', false, 'value'],
      ['at', 'TIMESTAMPTZ', true, 'value'],
      ['day', 'DATE', true, 'value'],
      ['ts', 'TIMESTAMPTZ', false, 'event-time'],
      ['address', 'STRUCT("city" VARCHAR, "zip code" VARCHAR)', true, 'value'],
      ['tags', 'VARCHAR[]', true, 'value'],
      ['lines', 'STRUCT("sku" VARCHAR, "n" BIGINT)[]', true, 'value'],
      ['extra', 'JSON', true, 'value'],
      ['anything', 'JSON', true, 'value'],
      ['status', 'VARCHAR', true, 'value'],
      ['amount', 'BIGINT', true, 'value'],
      ['ratio', 'DOUBLE', true, 'value'],
      ['_source_topic', 'VARCHAR', false, 'lineage'],
      ['_source_partition', 'INTEGER', false, 'lineage'],
      ['_source_offset', 'BIGINT', false, 'lineage'],
    ],
  );
  // The event-time field is read as text and converted; everything else is read as its own type.
  assert.deepEqual(mapping.readColumns.find((c) => c.field === 'ts'), { field: 'ts', duckType: 'VARCHAR' });
  assert.deepEqual(mapping.readColumns.at(-1), { field: '_source', duckType: 'STRUCT("topic" VARCHAR, "partition" INTEGER, "offset" BIGINT)' });
});

test('refuses what has no single column type, naming the path', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ v: { oneOf: [{ type: 'string' }, { type: 'integer' }] } }, /at \$\.v .*oneOf branches have types VARCHAR and BIGINT/],
    [{ v: { type: ['string', 'integer'] } }, /at \$\.v .*mixes string and integer/],
    [{ a: { type: 'object', properties: { b: { type: 'array', items: { type: ['boolean', 'string'] } } } } }, /at \$\.a\.b\[\] /],
    [{ v: { $ref: '#/$defs/x' } }, /at \$\.v .*\$ref/],
    [{ v: { allOf: [{ type: 'string' }] } }, /at \$\.v .*allOf/],
    [{ v: { type: 'null' } }, /only null/],
    [{ v: { enum: ['a', 1] } }, /no common type/],
    [{ v: false }, /at \$\.v /],
    [{ id: { type: 'string' }, ID: { type: 'string' } }, /at \$\.ID .*case-insensitive/],
    [{ _source_offset: { type: 'integer' } }, /collides with lineage column _source_offset/],
    [{ s: { type: 'object', properties: { a: { type: 'string' }, A: { type: 'string' } } } }, /at \$\.s .*differ only in case/],
    [{ 'odd name': { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'string' } } }, /at \$\["odd name"\] .*prefixItems/],
  ];
  for (const [properties, message] of cases) {
    assert.throws(
      () => mapJsonSchema({ type: 'object', properties }),
      (e: unknown) => e instanceof SinkError && e.code === 'OXBOW_SINK_UNMAPPABLE_SCHEMA' && message.test(e.message),
      JSON.stringify(properties),
    );
  }
  assert.throws(() => mapJsonSchema({ type: 'array', items: {} }), /record schema must be type "object"/);
  assert.throws(() => mapJsonSchema({ type: 'object', properties: { a: { type: 'string' } } }, { eventTimeField: 'ts' }), /event-time field "ts" is not a property/);
  assert.throws(() => mapJsonSchema({ type: 'object', properties: { ts: { type: 'boolean' } } }, { eventTimeField: 'ts' }), /event-time field has type "boolean"/);
});
