// The per-record engine: every record of a mixed batch ends processed, filtered or dead-lettered with the right code.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  compilePipeline,
  compileSchema,
  enrich,
  enrichFailure,
  filter,
  lookup,
  parse,
  validate,
  type DatasetDeclaration,
  type DataRecord,
  type Outcome,
  type StreamCounters,
} from '../../src/stream/index.ts';
import { dataset, json, raw, tempDir } from './helpers.ts';

const rawSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    currency: { enum: ['EUR', 'USD'] },
    country_code: { type: 'string' },
    customer_id: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
    note: { type: 'string' },
  },
  required: ['id', 'amount', 'currency', 'customer_id', 'ts'],
  additionalProperties: false,
};

const schema = {
  type: 'object',
  properties: {
    ...rawSchema.properties,
    amount_eur: { type: 'number' },
    country_name: { type: ['string', 'null'] },
    region: { type: ['string', 'null'] },
    tier: { type: 'string' },
  },
  required: ['id', 'amount', 'currency', 'customer_id', 'ts', 'amount_eur', 'tier'],
  additionalProperties: false,
};

async function ordersDeclaration(dir: string): Promise<DatasetDeclaration> {
  const countries = path.join(dir, 'countries.csv');
  await writeFile(countries, 'code,country_name,region\nDE,Germany,"Europe, Central"\nUS,United States,Americas\n');
  const customers = path.join(dir, 'customers.ndjson');
  await writeFile(customers, '{"customer_id":"c1","tier":"gold"}\n{"customer_id":"c2","tier":"silver"}\n');
  return {
    schema,
    rawSchema,
    eventTimeField: 'ts',
    steps: [
      parse({ maxValueBytes: 512 }),
      validate(),
      filter('no-test-orders', (r) => !String(r.id).startsWith('test-')),
      filter('explodes', (r) => {
        if (r.id === 'filter-throws') throw new Error('kaboom');
        return true;
      }),
      enrich(
        'fx',
        async (r) => {
          if (r.id === 'enrich-throws') throw new TypeError('rates service returned garbage');
          if (r.id === 'enrich-hangs') return new Promise<DataRecord>(() => undefined);
          if (r.id === 'no-rate') return enrichFailure('no USD rate for 2024-01-01');
          await Promise.resolve();
          return { ...r, amount_eur: r.currency === 'EUR' ? r.amount : Math.round((r.amount as number) * 90) / 100 };
        },
        { timeoutMs: 50 },
      ),
      lookup('country', { file: countries, format: 'csv', key: 'code', on: 'country_code', fields: ['country_name', 'region'], miss: 'null' }),
      lookup('customer', { file: customers, format: 'ndjson', key: 'customer_id', on: 'customer_id', fields: ['tier'], miss: 'dead-letter' }),
      enrich('finish', (r) => (r.id === 'bad-output' ? { ...r, amount_eur: 'lots', surprise: true } : r)),
    ],
  };
}

const order = (id: string, extra: Record<string, unknown> = {}) => ({ id, amount: 10, currency: 'EUR', country_code: 'DE', customer_id: 'c1', ts: '2024-01-01T10:00:00Z', ...extra });

function total(c: StreamCounters): number {
  return c.processed + Object.values(c.filtered).reduce((a, b) => a + b, 0) + Object.values(c.deadLettered).reduce((a, b) => a + b, 0);
}

test('a mixed batch: every record is processed, filtered or dead-lettered with the right code, in order', async (t) => {
  const dir = await tempDir(t);
  const pipeline = await compilePipeline(dataset('orders', await ordersDeclaration(dir)));
  const cases: [unknown, string][] = [
    [order('o-1'), 'processed'],
    [order('o-2', { currency: 'USD', amount: 20, country_code: 'XX' }), 'processed'],
    [null, 'OXBOW_STREAM_TOMBSTONE'],
    [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'OXBOW_STREAM_INVALID_UTF8'],
    ['{"id": "o-3", "amount": ', 'OXBOW_STREAM_INVALID_JSON'],
    ['[1, 2, 3]', 'OXBOW_STREAM_NOT_AN_OBJECT'],
    [order('o-big', { note: 'x'.repeat(600) }), 'OXBOW_STREAM_VALUE_TOO_LARGE'],
    [{ id: 5, amount: -1, currency: 'GBP', extra: 1 }, 'OXBOW_STREAM_SCHEMA_VIOLATION'],
    [order('test-1'), 'filtered:no-test-orders'],
    [order('filter-throws'), 'OXBOW_STREAM_STEP_FAILED'],
    [order('enrich-throws'), 'OXBOW_STREAM_STEP_FAILED'],
    [order('enrich-hangs'), 'OXBOW_STREAM_STEP_TIMEOUT'],
    [order('no-rate', { currency: 'USD' }), 'OXBOW_STREAM_ENRICH_FAILED'],
    [order('o-unknown-customer', { customer_id: 'c-404' }), 'OXBOW_STREAM_LOOKUP_MISS'],
    [order('bad-output'), 'OXBOW_STREAM_OUTPUT_SCHEMA_VIOLATION'],
    [order('o-4', { customer_id: 'c2', country_code: 'US' }), 'processed'],
  ];
  const startedMs = performance.now();
  const outcomes: Outcome[] = [];
  for (const [i, [value]] of cases.entries()) outcomes.push(await pipeline.process(raw(100 + i, value)));
  const elapsedMs = performance.now() - startedMs;

  const label = (o: Outcome) => (o.kind === 'processed' ? 'processed' : o.kind === 'filtered' ? `filtered:${o.rule}` : o.code);
  assert.deepEqual(outcomes.map(label), cases.map(([, expected]) => expected));
  // The hung enrichment cost its timeout, not more: later records went on.
  assert.ok(elapsedMs < 1000, `batch took ${elapsedMs} ms`);

  const c = pipeline.counters;
  assert.equal(c.recordsIn, cases.length);
  assert.equal(total(c), cases.length, 'processed + filtered + dead-lettered = records in');
  assert.equal(c.processed, 3);
  assert.deepEqual(c.filtered, { 'no-test-orders': 1 });
  assert.equal(c.deadLettered.OXBOW_STREAM_STEP_FAILED, 2);
  assert.equal(c.deadLettered.OXBOW_STREAM_TOMBSTONE, 1);

  // Processed values: enriched, looked up (a CSV field with a quoted comma; a miss gives nulls), with lineage, in input order.
  const processed = outcomes.flatMap((o) => (o.kind === 'processed' ? [json(o.value)] : []));
  assert.deepEqual(processed.map((v) => v.id), ['o-1', 'o-2', 'o-4']);
  assert.deepEqual(processed[0], { ...order('o-1'), amount_eur: 10, country_name: 'Germany', region: 'Europe, Central', tier: 'gold', _source: { topic: 'orders.raw', partition: 0, offset: 100 } });
  assert.equal(processed[1]!.amount_eur, 18);
  assert.equal(processed[1]!.country_name, null);
  assert.equal(processed[1]!.region, null);
  assert.deepEqual(processed.map((v) => (v._source as { offset: number }).offset), [100, 101, 115]);

  const dl = (i: number) => {
    const o = outcomes[i]!;
    assert.equal(o.kind, 'dead-letter');
    return o;
  };
  assert.deepEqual([dl(2).step, dl(3).step, dl(4).step, dl(6).step], ['parse', 'parse', 'parse', 'parse']);
  assert.match(dl(6).message, /the value is \d+ bytes; at most 512 are allowed/);
  // Every schema violation is listed, with its path.
  const violation = dl(7);
  assert.equal(violation.step, 'validate');
  assert.match(violation.message, /^6 schema violations: /);
  for (const part of ['/customer_id is required', '/ts is required', '/extra is not allowed', '/id must be string', '/amount must be >= 0', '/currency must be one of "EUR", "USD"']) {
    assert.ok(violation.message.includes(part), `${part} in: ${violation.message}`);
  }
  assert.equal((violation.details as { violations: unknown[] }).violations.length, 6);
  assert.deepEqual([dl(9).step, dl(9).message], ['explodes', 'filter "explodes" threw Error: kaboom']);
  assert.deepEqual([dl(10).step, dl(10).message], ['fx', 'enrich "fx" threw TypeError: rates service returned garbage']);
  assert.deepEqual([dl(11).step, dl(11).message], ['fx', 'enrich "fx" did not finish within 50 ms']);
  assert.deepEqual([dl(12).step, dl(12).message], ['fx', 'enrich "fx" could not enrich the record: no USD rate for 2024-01-01']);
  assert.equal(dl(13).step, 'customer');
  assert.match(dl(13).message, /no row of .*customers\.ndjson has customer_id = "c-404"/);
  const output = dl(14);
  assert.equal(output.step, 'finish');
  assert.match(output.message, /^after step "finish" the record does not match the processed schema: 2 schema violations: /);
  assert.match(output.message, /\/surprise is not allowed/);
  assert.match(output.message, /\/amount_eur must be number/);
});

test('outputs keep input order when records run concurrently and finish out of order', async () => {
  const delays = [120, 10, 80, 0, 40, 20, 60, 2];
  const pipeline = await compilePipeline(
    dataset('clicks', {
      schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      steps: [enrich('slow', (r) => new Promise((resolve) => setTimeout(() => resolve(r), delays[r.n as number])), { timeoutMs: 1000 }), filter('odd-out', (r) => (r.n as number) % 2 === 0)],
    }),
  );
  const startedMs = performance.now();
  const outcomes = await pipeline.processBatch(
    delays.map((_, n) => raw(n, { n }, { topic: 'clicks.raw' })),
    { concurrency: 8 },
  );
  const elapsedMs = performance.now() - startedMs;
  assert.ok(elapsedMs < delays.reduce((a, b) => a + b, 0), `ran concurrently (${elapsedMs} ms)`);
  assert.deepEqual(
    outcomes.map((o) => (o.kind === 'processed' ? json(o.value).n : o.kind)),
    [0, 'filtered', 2, 'filtered', 4, 'filtered', 6, 'filtered'],
  );
  assert.equal(pipeline.counters.processed, 4);
  assert.deepEqual(pipeline.counters.filtered, { 'odd-out': 4 });
});

test('a timed-out enrichment is aborted, its late rejection is not unhandled, and the next record goes on at once', async (t) => {
  let unhandled: unknown = null;
  const onUnhandled = (reason: unknown) => {
    unhandled = reason;
  };
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  let signal: AbortSignal | null = null;
  const pipeline = await compilePipeline(
    dataset('calls', {
      schema: { type: 'object' },
      steps: [
        enrich(
          'remote',
          (r, ctx) => {
            if (r.late !== true) return r;
            signal = ctx.signal;
            return new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 300));
          },
          { timeoutMs: 20 },
        ),
      ],
    }),
  );
  const timedOut = await pipeline.process(raw(0, { late: true }));
  assert.equal(timedOut.kind === 'dead-letter' && timedOut.code, 'OXBOW_STREAM_STEP_TIMEOUT');
  assert.equal((signal as AbortSignal | null)?.aborted, true);
  const startedMs = performance.now();
  const next = await pipeline.process(raw(1, { late: false }));
  assert.equal(next.kind, 'processed');
  assert.ok(performance.now() - startedMs < 200, 'not held up by the abandoned call');
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal(unhandled, null);
});

test('a synchronous enrichment that runs past its timeout is judged when it returns', async () => {
  const pipeline = await compilePipeline(
    dataset('busy', {
      schema: { type: 'object' },
      steps: [
        enrich(
          'spin',
          (r) => {
            const until = performance.now() + 30;
            while (performance.now() < until);
            return r;
          },
          { timeoutMs: 10 },
        ),
      ],
    }),
  );
  const o = await pipeline.process(raw(0, {}));
  assert.equal(o.kind === 'dead-letter' && o.code, 'OXBOW_STREAM_STEP_TIMEOUT');
});

test('steps that return what they may not are step failures, not crashes', async () => {
  const pipeline = await compilePipeline(
    dataset('odd', {
      schema: { type: 'object' },
      steps: [filter('maybe', (r) => (r.f === 'yes' ? ('yes' as unknown as boolean) : true)), enrich('nothing', (r) => (r.e === 'none' ? (undefined as unknown as DataRecord) : r))],
    }),
  );
  const [a, b, c] = await pipeline.processBatch([raw(0, { f: 'yes' }), raw(1, { e: 'none' }), raw(2, { ok: 1 })]);
  assert.deepEqual(a, { kind: 'dead-letter', code: 'OXBOW_STREAM_STEP_FAILED', step: 'maybe', message: 'filter "maybe" returned string; expected true (keep) or false (filter out)' });
  assert.deepEqual(b, { kind: 'dead-letter', code: 'OXBOW_STREAM_STEP_FAILED', step: 'nothing', message: 'enrich "nothing" returned undefined; expected a record object or enrichFailure(reason)' });
  assert.equal(c!.kind, 'processed');
});

test('lineage: _source names the raw topic, partition and offset, overrides a raw field of that name, and passes a closed schema', async () => {
  const pipeline = await compilePipeline(
    dataset('events', {
      schema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false },
      topics: { raw: 'events-in' },
    }),
  );
  const headers = [{ key: 'trace', value: Buffer.from('t-1') }];
  const o = await pipeline.process(raw(41, { a: 1, _source: { topic: 'forged', partition: 9, offset: 9 } }, { topic: 'events-in', partition: 3, key: 'k', headers }));
  assert.equal(o.kind, 'processed');
  assert.deepEqual(json(o.value), { a: 1, _source: { topic: 'events-in', partition: 3, offset: 41 } });
  assert.deepEqual(o.key, Buffer.from('k'));
  assert.deepEqual(o.headers, headers);
  // With no steps but parse, the output check names parse as the last step.
  const bad = await pipeline.process(raw(42, { a: 'one' }));
  assert.equal(bad.kind === 'dead-letter' && bad.step, 'parse');
});

test('values that cannot be written as JSON are output violations', async () => {
  const pipeline = await compilePipeline(dataset('big', { schema: { type: 'object' }, steps: [enrich('bigint', (r) => ({ ...r, n: 10n }))] }));
  const o = await pipeline.process(raw(0, {}));
  assert.equal(o.kind === 'dead-letter' && o.code, 'OXBOW_STREAM_OUTPUT_SCHEMA_VIOLATION');
  assert.match(o.kind === 'dead-letter' ? o.message : '', /cannot be written as JSON/);
});

test('processNow returns the outcome itself when every step is synchronous, and a promise only after an asynchronous one', async () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' }, tag: { type: 'string' } }, required: ['n'], additionalProperties: false };
  let signalSeen = false;
  const sync = await compilePipeline(
    dataset('now', {
      schema,
      steps: [validate(), filter('small', (r) => (r.n as number) < 10), enrich('tag', (r) => ({ ...r, tag: 'x' })), enrich('look', (r, c) => ((signalSeen = !c.signal.aborted), r))],
    }),
  );
  const kept = sync.processNow(raw(0, { n: 1 }));
  assert.ok(!(kept instanceof Promise));
  assert.equal(kept.kind, 'processed');
  assert.deepEqual(json(kept.kind === 'processed' ? kept.value : Buffer.from('{}')).tag, 'x');
  assert.ok(signalSeen, 'the signal is there for a function that asks for it');
  const dropped = sync.processNow(raw(1, { n: 11 }));
  assert.deepEqual(dropped, { kind: 'filtered', rule: 'small' });
  assert.deepEqual(sync.counters, { recordsIn: 2, processed: 1, filtered: { small: 1 }, deadLettered: {} });

  const async_ = await compilePipeline(dataset('later', { schema, steps: [filter('wait', async () => true), enrich('reject', async (r) => (r.n === 2 ? Promise.reject(new Error('no')) : r))] }));
  const pending = async_.processNow(raw(0, { n: 1 }));
  assert.ok(pending instanceof Promise);
  assert.equal((await pending).kind, 'processed');
  const failed = await async_.processNow(raw(1, { n: 2 }));
  assert.equal(failed.kind === 'dead-letter' && failed.code, 'OXBOW_STREAM_STEP_FAILED');
  assert.deepEqual(async_.counters, { recordsIn: 2, processed: 1, filtered: {}, deadLettered: { OXBOW_STREAM_STEP_FAILED: 1 } });
});

test('the output check sees what JSON writes: undefined fields dropped, a Date as its string, NaN as null', async () => {
  const schema = {
    type: 'object',
    properties: { at: { type: 'string', format: 'date-time' }, gone: { type: 'string' }, x: { type: 'null' }, list: { type: 'array', items: { type: 'integer' } } },
    required: ['at', 'x'],
    additionalProperties: false,
  };
  const pipeline = await compilePipeline(
    dataset('roundtrip', { schema, steps: [enrich('shape', () => ({ at: new Date(Date.UTC(2026, 0, 1)), gone: undefined, x: Number.NaN, list: [1, 2] }))] }),
  );
  const o = pipeline.processNow(raw(0, {}));
  assert.ok(!(o instanceof Promise));
  assert.equal(o.kind, 'processed', JSON.stringify(o));
  assert.deepEqual(json(o.kind === 'processed' ? o.value : Buffer.from('{}')), { at: '2026-01-01T00:00:00.000Z', x: null, list: [1, 2], _source: { topic: 'orders.raw', partition: 0, offset: 0 } });
  const plain = await compilePipeline(dataset('plain', { schema: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } }));
  const bad = await plain.process(raw(1, { n: 1.5 }));
  assert.equal(bad.kind === 'dead-letter' && bad.code, 'OXBOW_STREAM_OUTPUT_SCHEMA_VIOLATION');
});

test('format checks remember their last answer without mixing up values or schemas', () => {
  const dateTime = compileSchema({ type: 'string', format: 'date-time' });
  const date = compileSchema({ type: 'string', format: 'date' });
  const answers = ['2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00Z', '2024-02-29T23:59:59.5+02:00'].map((v) => dateTime(v).length);
  assert.deepEqual(answers, [0, 1, 1, 0, 0]);
  assert.deepEqual([date('2026-01-01'), date('2026-01-01T00:00:00Z'), date('2026-01-01')].map((v) => v.length), [0, 1, 0]);
});
