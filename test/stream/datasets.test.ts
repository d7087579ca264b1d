// Dataset declarations in the configuration model: defaults, and every kind of mistake reported at start with where and what.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, resolveConfig } from '../../src/config/index.ts';
import { enrich, filter, lookup, parse, resolveDatasets, validate, type DatasetDeclaration } from '../../src/stream/index.ts';
import { tempDir } from './helpers.ts';

const schema = { type: 'object', properties: { id: { type: 'string' }, ts: { type: 'string', format: 'date-time' }, ok: { type: 'boolean' } }, required: ['id'] };

/** The message resolveConfig gives for one dataset declaration. */
function mistake(declaration: unknown, name = 'orders'): string {
  try {
    resolveConfig({ datasets: { [name]: declaration as DatasetDeclaration } });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'OXBOW_CONFIG_INVALID');
    return e.message;
  }
  assert.fail('the declaration was accepted');
}

test('a dataset gets default topics, a parse step first and default limits', () => {
  const c = resolveConfig({ datasets: { orders: { schema, eventTimeField: 'ts', steps: [validate(), filter('real', () => true), enrich('e', (r) => r)] } } });
  const d = c.datasets.orders!;
  assert.deepEqual(d.topics, { raw: 'orders.raw', processed: 'orders.processed', dlq: 'orders.dlq' });
  assert.equal(d.eventTimeField, 'ts');
  assert.deepEqual(d.steps.map((s) => [s.kind, s.name]), [['parse', 'parse'], ['validate', 'validate'], ['filter', 'real'], ['enrich', 'e']]);
  assert.deepEqual(d.steps[0], { kind: 'parse', name: 'parse', maxValueBytes: 1024 * 1024 });
  assert.equal(d.steps[3]!.kind === 'enrich' && d.steps[3]!.timeoutMs, 5000);
  assert.equal(d.steps[1]!.kind === 'validate' && d.steps[1]!.schema, schema, 'validate() uses the dataset schema when there is no rawSchema');
  const t = resolveConfig({ datasets: { orders: { schema, rawSchema: { type: 'object' }, topics: { dlq: 'orders-dead' }, steps: [validate()] } } }).datasets.orders!;
  assert.deepEqual(t.topics, { raw: 'orders.raw', processed: 'orders.processed', dlq: 'orders-dead' });
  assert.deepEqual(t.steps[1]!.kind === 'validate' && t.steps[1]!.schema, { type: 'object' }, 'validate() prefers the rawSchema');
  // No datasets section: an empty map, and the rest of the configuration as before.
  assert.deepEqual(resolveConfig().datasets, {});
});

test('schema mistakes: missing, invalid, misspelt keyword, not an object, declares _source', () => {
  assert.equal(mistake({ steps: [] }), 'datasets.orders.schema: is missing; every dataset needs the JSON Schema of its processed records');
  assert.match(mistake({ schema: { type: 'objekt' } }), /^datasets\.orders\.schema: is not a valid JSON Schema \(draft 2020-12\): schema is invalid: data\/type must be equal to one of the allowed values/);
  assert.match(mistake({ schema: { type: 'object', requried: ['id'] } }), /^datasets\.orders\.schema: is not a valid JSON Schema \(draft 2020-12\): strict mode: unknown keyword: "requried"/);
  assert.equal(mistake({ schema: { type: 'array' } }), 'datasets.orders.schema: type is "array"; a processed record is an object, so the schema needs type: "object"');
  assert.equal(mistake({ schema: 'orders.json' }), 'datasets.orders.schema: "orders.json" is not a JSON Schema; expected an object');
  assert.match(mistake({ schema: { type: 'object', properties: { _source: {} } } }), /declares "_source", which Oxbow adds to every processed record/);
  assert.match(mistake({ schema, rawSchema: { type: 'object', properties: { a: { minimum: 'x' } } } }), /^datasets\.orders\.rawSchema: is not a valid JSON Schema/);
});

test('eventTimeField must be a property of the schema, of a time-like type', () => {
  assert.equal(mistake({ schema, eventTimeField: 'time' }), 'datasets.orders.eventTimeField: "time" is not a property of the schema; properties: id, ts, ok');
  assert.equal(mistake({ schema, eventTimeField: 'ok' }), 'datasets.orders.eventTimeField: "ok" has type "boolean" in the schema; an event time is a string (ISO 8601) or an integer (epoch milliseconds)');
  assert.equal(mistake({ schema, eventTimeField: 5 }), 'datasets.orders.eventTimeField: 5 is not allowed; expected a field name');
});

test('step mistakes name the dataset, the step and what is wrong', async (t) => {
  const dir = await tempDir(t);
  const table = path.join(dir, 'countries.csv');
  await writeFile(table, 'code,name\nDE,Germany\n');
  const missing = path.join(dir, 'nope.csv');
  assert.equal(
    mistake({ schema, steps: [lookup('country', { file: missing, format: 'csv', key: 'code', on: 'cc', miss: 'null' })] }),
    `datasets.orders.steps[0] (lookup "country"): file ${missing} does not exist`,
  );
  assert.equal(
    mistake({ schema, steps: [lookup('country', { file: dir, format: 'csv', key: 'code', on: 'cc', miss: 'null' })] }),
    `datasets.orders.steps[0] (lookup "country"): file ${dir} is not a regular file`,
  );
  assert.equal(
    mistake({ schema, steps: [validate(), filter('x', () => true), enrich('x', (r) => r)] }),
    'datasets.orders.steps[2] (enrich "x"): step name "x" is already used by steps[1]; give each step its own name',
  );
  assert.match(mistake({ schema, steps: [validate(), validate({ schema: { type: 'object' } })] }), /steps\[1\] \(validate "validate"\): step name "validate" is already used by steps\[0\]; .*validate\(\{ name: '\.\.\.' \}\)/);
  assert.equal(mistake({ schema, steps: [validate(), parse()] }), 'datasets.orders.steps[1] (parse "parse"): parse() must be the first step (it turns the bytes into a record)');
  assert.equal(mistake({ schema, steps: [enrich('slow', (r) => r, { timeoutMs: 0 })] }), 'datasets.orders.steps[0] (enrich "slow"): timeoutMs: 0 is not allowed; expected a whole number of milliseconds, at least 1');
  assert.equal(mistake({ schema, steps: [filter('keep', 'yes' as never)] }), 'datasets.orders.steps[0] (filter "keep"): predicate: "yes" is not a function; expected (record, context) => boolean');
  assert.equal(mistake({ schema, steps: [filter('has space', () => true)] }), 'datasets.orders.steps[0] (filter "has space"): name "has space" is not allowed; expected letters, digits, ".", "_" or "-"');
  assert.equal(mistake({ schema, steps: [{ kind: 'map', name: 'm' }] }), 'datasets.orders.steps[0] (map "m"): {"kind":"map","name":"m"} is not a step; create steps with parse(), validate(), filter(), enrich() or lookup()');
  assert.equal(mistake({ schema, steps: [{ ...filter('f', () => true), when: 1 }] }), 'datasets.orders.steps[0] (filter "f"): unknown option when; a filter step takes name, predicate');
  assert.match(mistake({ schema, steps: [validate({ name: 'v2', schema: { type: 'strnig' } })] }), /^datasets\.orders\.steps\[0\] \(validate "v2"\): schema is not a valid JSON Schema/);
  assert.equal(mistake({ schema, steps: [parse({ maxValueBytes: -1 })] }), 'datasets.orders.steps[0] (parse "parse"): maxValueBytes: -1 is not allowed; expected a whole number of bytes, at least 1');
  // Every mistake of a lookup at once.
  const bad = mistake({ schema, steps: [lookup('country', { file: table, format: 'xml' as never, key: '', on: 'cc', fields: ['name', 'name'], miss: 'drop' as never, reloadCheckMs: -5 })] });
  assert.equal(
    bad,
    [
      '5 mistakes in datasets:',
      '  datasets.orders.steps[0] (lookup "country"): format: "xml" is not allowed; expected one of "csv", "json", "ndjson"',
      '  datasets.orders.steps[0] (lookup "country"): key: "" is not allowed; expected a column of the table',
      '  datasets.orders.steps[0] (lookup "country"): fields: ["name","name"] names a column twice',
      '  datasets.orders.steps[0] (lookup "country"): miss: "drop" is not allowed; expected "null" (set the fields to null) or "dead-letter"',
      '  datasets.orders.steps[0] (lookup "country"): reloadCheckMs: -5 is not allowed; expected a whole number of milliseconds, at least 0',
    ].join('\n'),
  );
});

test('dataset-level mistakes: names, unknown keys, topics, shapes', () => {
  assert.match(mistake({ schema }, 'or ders'), /^datasets\.or ders: the dataset name is not allowed/);
  assert.equal(mistake({ schema, stpes: [] }), 'datasets.orders: unknown key stpes; a dataset takes schema, rawSchema, eventTimeField, topics, steps');
  assert.equal(mistake({ schema, topics: { raw: 'a b' } }), 'datasets.orders.topics.raw: "a b" is not a topic name; expected 1 to 249 letters, digits, ".", "_" or "-"');
  assert.equal(mistake({ schema, topics: { dlq: 'orders.raw' } }), 'datasets.orders.topics: raw, processed and dlq must be three different topics; got {"raw":"orders.raw","processed":"orders.processed","dlq":"orders.raw"}');
  assert.equal(mistake({ schema, steps: validate() }), 'datasets.orders.steps: {"kind":"validate","name":"validate"} is not allowed; expected a list of steps');
  assert.equal(mistake(null), 'datasets.orders: null is not a dataset; expected an object with schema, eventTimeField and steps');
  assert.throws(() => resolveConfig({ datasets: [] as never }), /^ConfigError: datasets: \[\] is not allowed; expected an object of datasets by name$/);
  const shared = resolveDatasets({ a: { schema, topics: { raw: 'in' } }, b: { schema, topics: { raw: 'in' } } });
  assert.deepEqual(shared, { ok: false, problems: [{ path: 'datasets.b.topics', message: 'topic in is already used by dataset a' }] });
});

test('several datasets with mistakes are reported together, and ConfigError carries them as fields', () => {
  try {
    resolveConfig({ datasets: { a: { schema, eventTimeField: 'when' }, b: { schema: { type: 'array' } } } });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /^2 mistakes in datasets:\n {2}datasets\.a\.eventTimeField: .*\n {2}datasets\.b\.schema: /);
    assert.equal((e.fields.problems as unknown[]).length, 2);
  }
});

test('an oxbow.config.ts with datasets loads, and relative lookup files resolve against the working directory', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'countries.csv'), 'code,name\nDE,Germany\n');
  const config = path.resolve(import.meta.dirname, '../../src/config/index.ts');
  const stream = path.resolve(import.meta.dirname, '../../src/stream/index.ts');
  await writeFile(
    path.join(dir, 'oxbow.config.ts'),
    [
      `import { defineLake } from ${JSON.stringify(config)};`,
      `import { validate, lookup } from ${JSON.stringify(stream)};`,
      `export default defineLake({ datasets: { orders: { schema: { type: 'object' }, steps: [validate(), lookup('country', { file: 'countries.csv', format: 'csv', key: 'code', on: 'cc', miss: 'null' })] } } });`,
    ].join('\n'),
  );
  const c = await loadConfig({ cwd: dir });
  assert.deepEqual(c.datasets.orders!.steps.map((s) => s.name), ['parse', 'validate', 'country']);
  const loaded = c.datasets.orders!.steps[2]!;
  assert.equal(loaded.kind === 'lookup' && loaded.file, path.join(dir, 'countries.csv'), 'relative to loadConfig({ cwd })');
  const relative = resolveDatasets({ x: { schema, steps: [lookup('c', { file: 'countries.csv', format: 'csv', key: 'code', on: 'cc', miss: 'null' })] } }, dir);
  assert.ok(relative.ok);
  const step = relative.datasets.x!.steps[1]!;
  assert.equal(step.kind === 'lookup' && step.file, path.join(dir, 'countries.csv'));
});
