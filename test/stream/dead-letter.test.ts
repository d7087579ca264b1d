// Dead-letter headers: the original headers, then code, message, source, dataset, step and time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePipeline, deadLetterHeaders, filter, MAX_ERROR_MESSAGE_CHARS, type DeadLetterOutcome, type StreamHeader } from '../../src/stream/index.ts';
import { dataset, raw } from './helpers.ts';

const text = (headers: StreamHeader[]) => headers.map((h): [string, string | null] => [h.key, h.value === null ? null : h.value.toString('utf8')]);

test('a dead letter keeps its headers and key, and gains what went wrong and where it came from', async () => {
  const d = dataset('orders', { schema: { type: 'object' }, steps: [filter('strict', () => { throw new Error('no'); })] });
  const pipeline = await compilePipeline(d);
  const headers = [{ key: 'trace', value: Buffer.from('abc') }, { key: 'empty', value: null }, { key: 'trace', value: Buffer.from('def') }];
  const record = raw(1234, '{"id":', { topic: 'orders.raw', partition: 2, key: 'order-1', headers });
  const outcome = await pipeline.process(record);
  assert.equal(outcome.kind, 'dead-letter');
  const out = deadLetterHeaders(outcome, record, d, Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  assert.deepEqual(text(out), [
    ['trace', 'abc'],
    ['empty', null],
    ['trace', 'def'],
    ['oxbow.error.code', 'OXBOW_STREAM_INVALID_JSON'],
    ['oxbow.error.message', outcome.message],
    ['oxbow.source.topic', 'orders.raw'],
    ['oxbow.source.partition', '2'],
    ['oxbow.source.offset', '1234'],
    ['oxbow.dataset', 'orders'],
    ['oxbow.step', 'parse'],
    ['oxbow.time', '2024-01-02T03:04:05.006Z'],
  ]);
  assert.match(outcome.message, /^the value is not JSON: /);
  // The record itself is not touched: the runtime writes its key and value as they came.
  assert.deepEqual(record.headers, headers);
  assert.equal(record.value!.toString(), '{"id":');
  assert.equal(record.key!.toString(), 'order-1');

  const failed = await pipeline.process(raw(5, '{}'));
  const h = new Map(text(deadLetterHeaders(failed as DeadLetterOutcome, raw(5, '{}'), d, new Date(0))));
  assert.equal(h.get('oxbow.step'), 'strict');
  assert.equal(h.get('oxbow.error.code'), 'OXBOW_STREAM_STEP_FAILED');
  assert.equal(h.get('oxbow.time'), '1970-01-01T00:00:00.000Z');
});

test('a replayed dead letter carries only the latest failure, and a huge message is cut', () => {
  const d = dataset('orders', { schema: { type: 'object' } });
  const old = [
    { key: 'oxbow.error.code', value: Buffer.from('OXBOW_STREAM_LOOKUP_MISS') },
    { key: 'oxbow.step', value: Buffer.from('country') },
    { key: 'app', value: Buffer.from('shop') },
  ];
  const outcome: DeadLetterOutcome = { kind: 'dead-letter', code: 'OXBOW_STREAM_SCHEMA_VIOLATION', step: 'validate', message: 'x'.repeat(10_000) };
  const out = deadLetterHeaders(outcome, raw(9, '{}', { headers: old }), d, 0);
  const keys = out.map((h) => h.key);
  assert.deepEqual(keys.filter((k) => k === 'oxbow.error.code' || k === 'oxbow.step').length, 2);
  assert.equal(keys[0], 'app');
  const byKey = new Map(text(out));
  assert.equal(byKey.get('oxbow.error.code'), 'OXBOW_STREAM_SCHEMA_VIOLATION');
  assert.equal(byKey.get('oxbow.step'), 'validate');
  const message = byKey.get('oxbow.error.message')!;
  assert.equal(message.length, MAX_ERROR_MESSAGE_CHARS);
  assert.ok(message.endsWith('…'));
});
