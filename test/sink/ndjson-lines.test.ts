// The records a sink holds for one open file, as NDJSON in a few buffers: what DuckDB reads is exactly the records,
// one per line, in order, with their offsets; a value with raw newlines is one line, and its dead letter keeps it as it came.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NdjsonLines } from '../../src/sink/ndjson-lines.ts';

test('lines keep order, offsets and bytes across many buffers; raw newlines become spaces in the file, not in the value', () => {
  const lines = new NdjsonLines();
  const values: string[] = [];
  for (let i = 0; i < 5000; i++) {
    // Short and long records (one larger than the largest buffer), some with raw newlines between tokens.
    const pad = i === 4321 ? 'y'.repeat(2 * 1024 * 1024) : 'x'.repeat(i % 300);
    values.push(i % 997 === 0 ? `{"id":${i},\n"pad":"${pad}"\r\n}` : `{"id":${i},"pad":"${pad}"}`);
    lines.push(Buffer.from(values[i]!), 1_000_000 + i);
  }
  assert.equal(lines.length, 5000);
  const text = Buffer.concat(lines.parts()).toString();
  assert.deepEqual(text.split('\n'), [...values.map((v) => v.replace(/[\r\n]/g, ' ')), '']);
  assert.equal(lines.bytes, Buffer.byteLength(text));
  assert.equal(lines.maxLineBytes, Buffer.byteLength(values[4321]!));
  assert.equal(lines.line(997).toString(), values[997]!.replace(/[\r\n]/g, ' '));
  assert.equal(lines.value(997).toString(), values[997], 'the value as it came');
  assert.equal(lines.value(998).toString(), values[998]);
  assert.equal(lines.offset(4999), 1_004_999);
  const kept = lines.select([0, 997, 4321, 4999]);
  assert.deepEqual([0, 1, 2, 3].map((i) => kept.value(i).toString()), [values[0], values[997], values[4321], values[4999]]);
  assert.deepEqual([0, 1, 2, 3].map((i) => kept.offset(i)), [1_000_000, 1_000_997, 1_004_321, 1_004_999]);
  assert.equal(Buffer.concat(kept.parts()).toString().split('\n').length, 5);
});
