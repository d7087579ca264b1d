import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { isDate, isDateTime, isTime } from '../../src/stream/date-time.ts';

type Check = (s: string) => boolean;
const reference = (name: 'date' | 'time' | 'date-time'): Check => (fullFormats[name] as { validate: Check }).validate;

/** A small deterministic generator, so that a failure names a string that can be tried again. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Strings near the format: valid ones, and ones with a field out of range, a character swapped, cut or added. */
function candidates(count: number, seed: number): string[] {
  const r = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const two = () => String(Math.floor(r() * 100)).padStart(2, '0');
  const near = (values: readonly string[]) => (r() < 0.7 ? pick(values) : two());
  const year = () => pick(['2024', '1900', '2000', '2023', '0000', '9999', '2100', String(Math.floor(r() * 10000)).padStart(4, '0')]);
  const date = () => `${year()}-${near(['01', '02', '12', '09', '00', '13'])}-${near(['01', '28', '29', '30', '31', '00', '32'])}`;
  const zone = () => pick(['Z', 'z', '+00:00', '-00:00', '+05:30', '-08:00', '+0530', '+05', '-01', '+01', '+24:00', '+23:60', '', '+5:30', '+05:3', '+05:']);
  const time = () => `${near(['00', '12', '23', '24', '22'])}:${near(['00', '59', '60', '30'])}:${near(['00', '59', '60', '61'])}${pick(['', '', '.5', '.123456', '.', '.99999999999999999999', '.0001'])}${zone()}`;
  const sep = () => pick(['T', 't', ' ', '\t', '\u00a0', '\u2003', 'x', '', 'TT', '_']);
  const mangle = (s: string): string => {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 5)) {
      case 0:
        return s.slice(0, at);
      case 1:
        return s.slice(0, at) + pick(['0', '9', ':', '-', '.', 'Z', 'T', ' ', 'a', '+']) + s.slice(at);
      case 2:
        return s.slice(0, at) + s.slice(at + 1);
      default:
        return s;
    }
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    const s = kind === 0 ? date() : kind === 1 ? time() : `${date()}${sep()}${time()}`;
    out.push(r() < 0.3 ? mangle(s) : s);
  }
  return out;
}

test('date, time and date-time accept exactly what ajv-formats accepts', () => {
  const pairs: [string, Check, Check][] = [
    ['date', isDate, reference('date')],
    ['time', isTime, reference('time')],
    ['date-time', isDateTime, reference('date-time')],
  ];
  const fixed = ['2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '2024-04-31', '23:59:60Z', '23:59:60+00:00', '00:59:60+01:00', '23:59:60-00:30', '12:00:60Z',
    '2024-06-30T23:59:60Z', '2024-06-30 12:00:00+05:30', '2024-06-30t12:00:00z', '2024-06-30T12:00:00', '2024-06-30T12:00:00.Z', '2024-06-30T12:00:00.123+0530',
    '2024-06-30T12:00:00+05', '2024-06-30T12:00:00+05:', '2024-06-30T24:00:00Z', '2024-06-30TT12:00:00Z', '', 'T', '2024-06-30', '12:00:00Z', '2024-06-30T12:00:00Z '];
  let accepted = 0;
  for (const s of [...fixed, ...candidates(60_000, 20261205)]) {
    for (const [name, ours, theirs] of pairs) {
      const expected = theirs(s);
      assert.equal(ours(s), expected, `${name} of ${JSON.stringify(s)}: ajv-formats says ${expected}`);
      if (expected) accepted++;
    }
  }
  // Both answers occur often, so the comparison covers valid strings as well as invalid ones.
  assert.ok(accepted > 3000, `only ${accepted} strings were valid`);
});
