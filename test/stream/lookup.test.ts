// Lookup tables: CSV, JSON and NDJSON files, misses in both modes, and reloads that follow the file on an injected clock.
import assert from 'node:assert/strict';
import { utimes, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { compilePipeline, lookup, parseCsv, parseTable, StreamError, type LookupOptions, type StreamWarning } from '../../src/stream/index.ts';
import { dataset, json, raw, tempDir } from './helpers.ts';

test('CSV: header row, quoted fields with commas, quotes and newlines, CRLF, a BOM and blank lines', () => {
  const rows = parseCsv('\uFEFFcode,name,note\r\nDE,"Germany","says ""hallo"", mostly"\r\n\r\nFR,France,"two\nlines"\nXX,,""\n');
  assert.deepEqual(rows, [
    { line: 1, fields: ['code', 'name', 'note'] },
    { line: 2, fields: ['DE', 'Germany', 'says "hallo", mostly'] },
    { line: 4, fields: ['FR', 'France', 'two\nlines'] },
    { line: 6, fields: ['XX', '', ''] },
  ]);
  assert.throws(() => parseCsv('a,b\n"open,1\n'), /line 2: a quoted field is never closed/);
  assert.throws(() => parseCsv('a,b\nx"y,1\n'), /line 2: a quote inside an unquoted field/);
  assert.throws(() => parseCsv('a,b\n"x"y,1\n'), /line 2: unexpected "y" after a closing quote/);
});

test('tables from each format, keyed by strings, and what makes a file broken', () => {
  const csv = parseTable('id,name\n1,one\n2,two\n', 'csv', 'id', null);
  assert.deepEqual(csv.columns, ['name']);
  assert.deepEqual(csv.rows.get('2'), { id: '2', name: 'two' });
  const j = parseTable('[{"id": 1, "name": "one", "n": 1}, {"id": 2, "name": "two"}]', 'json', 'id', ['name']);
  assert.deepEqual(j.columns, ['name']);
  assert.deepEqual(j.rows.get('1'), { id: 1, name: 'one', n: 1 });
  const nd = parseTable('{"id":"a","v":1}\n\n{"id":"a","v":2}\n', 'ndjson', 'id', null);
  assert.equal(nd.duplicates, 1);
  assert.deepEqual(nd.rows.get('a'), { id: 'a', v: 2 });
  assert.throws(() => parseTable('id,name\n1,one,extra\n', 'csv', 'id', null), /line 2 has 3 fields; the header has 2/);
  assert.throws(() => parseTable('code,name\n', 'csv', 'id', null), /the header has no "id" column; columns: code, name/);
  assert.throws(() => parseTable('id,name\n1,one\n', 'csv', 'id', ['nme']), /no column "nme"; available: id, name/);
  assert.throws(() => parseTable('{"id": 1}', 'json', 'id', null), /expected a JSON array of objects/);
  assert.throws(() => parseTable('[{"id": {"x": 1}}]', 'json', 'id', null), /element 0 has no usable "id"/);
  assert.throws(() => parseTable('{"id":1}\n{"id":\n', 'ndjson', 'id', null), /^Error: line 2: /);
  assert.throws(() => parseTable('', 'csv', 'id', null), /the file is empty/);
});

async function countryPipeline(dir: string, clock: { ms: number }, warnings: StreamWarning[], options: Partial<LookupOptions> = {}) {
  const file = path.join(dir, 'countries.csv');
  return compilePipeline(
    dataset('sales', {
      schema: { type: 'object', properties: { cc: { type: 'string' }, country: { type: ['string', 'null'] } }, required: ['cc'] },
      steps: [lookup('country', { file, format: 'csv', key: 'code', on: 'cc', fields: ['country'], miss: 'null', reloadCheckMs: 1000, ...options })],
    }),
    { now: () => clock.ms, onWarning: (w) => warnings.push(w) },
  );
}

const country = async (p: Awaited<ReturnType<typeof countryPipeline>>, cc: string, offset = 0) => {
  const o = await p.process(raw(offset, { cc }, { topic: 'sales.raw' }));
  return o.kind === 'processed' ? json(o.value).country : o;
};

test('a lookup reloads its file when it changes, at most every reloadCheckMs of the injected clock', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'countries.csv');
  await writeFile(file, 'code,country\nDE,Germany\n');
  const clock = { ms: 1_000_000 };
  const warnings: StreamWarning[] = [];
  const p = await countryPipeline(dir, clock, warnings);
  assert.equal(await country(p, 'DE'), 'Germany');
  assert.equal(await country(p, 'FR'), null);

  await writeFile(file, 'code,country\nDE,Deutschland\nFR,France\n');
  clock.ms += 999;
  assert.equal(await country(p, 'FR'), null, 'not checked before reloadCheckMs has passed');
  clock.ms += 1;
  assert.equal(await country(p, 'FR'), 'France');
  assert.equal(await country(p, 'DE'), 'Deutschland');

  // Same size, new modification time: still noticed.
  await writeFile(file, 'code,country\nDE,Deutschlant\nFR,Frankreich\n');
  await utimes(file, new Date(), new Date(Date.now() + 5000));
  clock.ms += 1000;
  assert.equal(await country(p, 'DE'), 'Deutschlant');
  assert.deepEqual(warnings, []);
});

test('a broken new version keeps the old table in use and is reported once; a fixed one is picked up', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'countries.csv');
  await writeFile(file, 'code,country\nDE,Germany\n');
  const clock = { ms: 0 };
  const warnings: StreamWarning[] = [];
  const p = await countryPipeline(dir, clock, warnings);

  await writeFile(file, 'code,country\nDE,"Germ\n');
  clock.ms += 1000;
  assert.equal(await country(p, 'DE'), 'Germany');
  clock.ms += 1000;
  assert.equal(await country(p, 'DE'), 'Germany');
  assert.equal(warnings.length, 1);
  assert.deepEqual({ ...warnings[0], message: '' }, { dataset: 'sales', step: 'country', file, message: '' });
  assert.match(warnings[0]!.message, /countries\.csv changed but cannot be used: line 2: a quoted field is never closed; still using the table loaded before/);

  await rm(file);
  clock.ms += 1000;
  assert.equal(await country(p, 'DE'), 'Germany');
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!.message, /cannot read .*countries\.csv \(ENOENT/);

  await writeFile(file, 'code,country\nDE,Germany\nIT,Italy\n');
  clock.ms += 1000;
  assert.equal(await country(p, 'IT'), 'Italy');
  assert.equal(warnings.length, 2);
});

test('records that arrive while a reload is under way all see the new table', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'countries.csv');
  await writeFile(file, 'code,country\nDE,Germany\n');
  const clock = { ms: 0 };
  const p = await countryPipeline(dir, clock, []);
  await writeFile(file, 'code,country\nDE,Deutschland\n');
  clock.ms = 5000;
  const outcomes = await p.processBatch([raw(0, { cc: 'DE' }), raw(1, { cc: 'DE' }), raw(2, { cc: 'DE' })], { concurrency: 3 });
  assert.deepEqual(outcomes.map((o) => (o.kind === 'processed' ? json(o.value).country : o.kind)), ['Deutschland', 'Deutschland', 'Deutschland']);
});

test('lookup misses: nulls for every field, or a dead letter; a key that is not a scalar is a miss', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'rates.json');
  await writeFile(file, JSON.stringify([{ currency: 'USD', rate: 0.9, source: 'ecb' }, { currency: 'GBP', rate: 1.2, source: 'boe' }, { currency: 7, rate: 7 }]));
  const schema = { type: 'object', properties: { cur: {}, rate: { type: ['number', 'null'] }, source: { type: ['string', 'null'] } } };
  const make = (miss: 'null' | 'dead-letter') =>
    compilePipeline(dataset('fx', { schema, steps: [lookup('rate', { file, format: 'json', key: 'currency', on: 'cur', miss })] }));
  const lenient = await make('null');
  const values = await lenient.processBatch([raw(0, { cur: 'USD' }), raw(1, { cur: 'JPY' }), raw(2, { cur: 7 }), raw(3, { cur: ['USD'] }), raw(4, {})]);
  assert.deepEqual(
    values.map((o) => (o.kind === 'processed' ? [json(o.value).rate, json(o.value).source] : o.kind)),
    [[0.9, 'ecb'], [null, null], [7, null], [null, null], [null, null]],
  );
  const strict = await make('dead-letter');
  const miss = await strict.process(raw(0, { cur: 'JPY' }));
  assert.equal(miss.kind, 'dead-letter');
  assert.equal(miss.kind === 'dead-letter' && miss.code, 'OXBOW_STREAM_LOOKUP_MISS');
  assert.equal(miss.kind === 'dead-letter' && miss.step, 'rate');
  assert.match(miss.kind === 'dead-letter' ? miss.message : '', /lookup "rate": no row of .*rates\.json has currency = "JPY" \(from field "cur"\)/);
  assert.deepEqual(strict.counters.deadLettered, { OXBOW_STREAM_LOOKUP_MISS: 1 });
});

test('a lookup file that is broken at start stops the pipeline from compiling', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'countries.csv');
  await writeFile(file, 'code,country\nDE,Germany\n');
  const d = dataset('sales', { schema: { type: 'object' }, steps: [lookup('country', { file, format: 'csv', key: 'code', on: 'cc', miss: 'null' })] });
  await writeFile(file, 'land,country\nDE,Germany\n');
  await assert.rejects(
    compilePipeline(d),
    (e: unknown) =>
      e instanceof StreamError &&
      e.code === 'OXBOW_STREAM_LOOKUP_UNREADABLE' &&
      e.message === `dataset sales, lookup "country": cannot load ${file}: the header has no "code" column; columns: land, country`,
  );
});
