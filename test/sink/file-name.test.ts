// Data file names: the documented layout, the round trip used by recovery, and names that are not data files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataFileName, parseDataFileName } from '../../src/sink/index.ts';

test('names a file <topic>+<partition>+<first>+<last>.<codec>.parquet', () => {
  assert.equal(dataFileName('orders.processed', 3, 100, 199), 'orders.processed+3+100+199.snappy.parquet');
  assert.equal(dataFileName('orders.processed', 0, 0, 0, 'zstd'), 'orders.processed+0+0+0.zstd.parquet');
  assert.equal(dataFileName('orders.processed', 0, 5, 9, 'gzip'), 'orders.processed+0+5+9.gz.parquet');
});

test('parses what it names, for every codec and large offsets', () => {
  for (const codec of ['snappy', 'zstd', 'gzip'] as const) {
    for (const [p, first, last] of [[0, 0, 0], [7, 42, 1_000_000], [2147483647, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]] as const) {
      const name = dataFileName('a_b-c.d', p, first, last, codec);
      assert.deepEqual(parseDataFileName(name), { topic: 'a_b-c.d', kafkaPartition: p, firstOffset: first, lastOffset: last, codec });
      assert.deepEqual(parseDataFileName(`golden/a_b-c.d/2026/11/22/05/${name}`), parseDataFileName(name));
    }
  }
});

test('reads the numbers from the right, so a "+" in the topic part does not confuse it', () => {
  assert.deepEqual(parseDataFileName('odd+topic+1+2+3.snappy.parquet'), { topic: 'odd+topic', kafkaPartition: 1, firstOffset: 2, lastOffset: 3, codec: 'snappy' });
});

test('anything else is not a data file name', () => {
  for (const name of [
    'orders+0+1+2.snappy.parquet.tmp',
    'orders+0+1+2.parquet',
    'orders+0+1.snappy.parquet',
    'orders+0+01+2.snappy.parquet',
    'orders+0+5+4.snappy.parquet',
    'orders+0+1+99999999999999999999.snappy.parquet',
    'orders+-1+1+2.snappy.parquet',
    '+0+1+2.snappy.parquet',
    'orders+0+1+2.lz4.parquet',
  ]) {
    assert.equal(parseDataFileName(name), null, name);
  }
});

test('refuses to name a file from impossible parts', () => {
  assert.throws(() => dataFileName('bad/topic', 0, 0, 0), /invariant violated/);
  assert.throws(() => dataFileName('t', -1, 0, 0), /invariant violated/);
  assert.throws(() => dataFileName('t', 0, 5, 4), /invariant violated/);
  assert.throws(() => dataFileName('t', 0, 1.5, 4), /invariant violated/);
});
