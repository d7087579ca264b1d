// The sink's top-level field reader agrees with JSON.parse on every value it returns, and refuses what is not one object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topLevelFieldReader } from '../../src/sink/json-fields.ts';
import { eventTimeMs } from '../../src/sink/partitioner.ts';

const read = (text: string, names = ['ts', 'country']) => topLevelFieldReader(names)(Buffer.from(text, 'utf8'));

test('reads top-level fields like JSON.parse: nested keys of the same name, escapes, unicode, spacing, duplicates', () => {
  const cases = [
    '{"a":{"ts":"nested"},"ts":"2026-11-22T05:00:00Z","country":"DE"}',
    '{ "country" : "Köln \\"DE\\" \\u00e9" , "ts" : 1795325400123 , "x": [1, {"ts": 2}, "]}"] }',
    '{"ts":"first","ts":"second"}',
    '{"tags":["a","b"],"country":null,"ts":true}',
    '{"country":{"deep":[1,2,{"x":"}"}]},"ts":-1.5e3}',
    '{"t\\u0073":"escaped key is another key for this reader","ts":"plain"}',
    '{}',
    ' \n{"ts":"2026-11-22T05:00:00.123456Z"}\n ',
  ];
  for (const text of cases) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const got = read(text)!;
    assert.ok(got !== null, text);
    for (const name of ['ts', 'country']) {
      if (name === 'ts' && text.includes('t\\u0073')) continue;
      assert.deepEqual(got[name], parsed[name], `${name} of ${text}`);
    }
  }
});

test('anything but one JSON object is refused', () => {
  for (const text of ['', '[1,2]', '"text"', '42', '{"ts":1', '{"ts":"open}', '{"ts" 1}', '{"ts":1}{"ts":2}', '{"ts":1,}x', '{ts:1}', '{"ts":}']) {
    assert.equal(read(text), null, JSON.stringify(text));
  }
});

test('random objects: every field the reader returns equals JSON.parse', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const value = (depth: number): unknown => {
    const r = random();
    if (depth > 2 || r < 0.3) return ['x', 'ü"\\', 1.5, -3, true, null, '2026-11-22T05:00:00Z'][Math.floor(random() * 7)];
    if (r < 0.6) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [['ts', 'country', 'k', `f${i}`][Math.floor(random() * 4)]!, value(depth + 1)]));
  };
  for (let i = 0; i < 2000; i++) {
    const object = value(0);
    if (typeof object !== 'object' || object === null || Array.isArray(object)) continue;
    const text = JSON.stringify(object, null, random() < 0.3 ? 1 : undefined);
    const got = read(text)!;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const name of ['ts', 'country']) assert.deepEqual(got[name], parsed[name], text);
  }
});

test('event times in the common UTC shape read the same as through Date.parse; impossible dates are refused', () => {
  for (const t of ['2026-11-22T05:00:00Z', '2024-02-29T23:59:59.999Z', '2026-11-22T05:00:00.1Z', '2026-11-22T05:00:00.123456789Z', '0100-01-01T00:00:00Z', '9999-12-01T00:00:00Z']) {
    assert.equal(eventTimeMs(t), Date.parse(t.replace(/(\.\d{3})\d+Z$/, '$1Z')), t);
  }
  for (const t of ['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-31T00:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T05:00:00.Z', '2026-11-22T05:00Z']) {
    assert.equal(eventTimeMs(t), null, t);
  }
});
