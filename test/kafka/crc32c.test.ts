// CRC-32C: known vectors, agreement with an independent implementation, piecewise use, and throughput.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c as wasmCrc32c } from '@platformatic/wasm-utils';
import { crc32c as crc32cDefault, crc32cImplementation, crc32cJs } from '../../src/kafka/crc32c.ts';

// Both paths: the one the broker uses (native when @node-rs/crc32 is installed) and the pure-JS fallback.
const IMPLEMENTATIONS = [[`default (${crc32cImplementation})`, crc32cDefault], ['pure JS', crc32cJs]] as const;

for (const [impl, crc32c] of IMPLEMENTATIONS) {

  void test(`${impl}: matches the published CRC-32C vectors`, () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  // RFC 3720 (iSCSI) appendix B.4
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

  void test(`${impl}: agrees with an independent implementation at every length and alignment`, () => {
  const data = Buffer.alloc(4096);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const start of [0, 1, 2, 3, 5, 7]) {
    for (const len of [0, 1, 7, 8, 9, 63, 64, 65, 100, 1000, 4000]) {
      const piece = data.subarray(start, start + len);
      assert.equal(crc32c(data, start, start + len), wasmCrc32c(piece) >>> 0, `start ${start} len ${len}`);
      assert.equal(crc32c(piece), wasmCrc32c(piece) >>> 0);
    }
  }
});

  void test(`${impl}: continues a checksum across pieces`, () => {
  const data = Buffer.from('the quick brown fox jumps over the lazy dog, many times over '.repeat(20));
  for (const cut of [0, 1, 13, 64, 500, data.length]) {
    assert.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), crc32c(data));
  }
});

  void test(`${impl}: checksums at least 500 MB/s`, () => {
  const data = Buffer.alloc(32 << 20);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    crc32c(data);
    best = Math.min(best, performance.now() - t);
  }
  const mbPerSecond = 32 / (best / 1000);
  assert.ok(mbPerSecond >= 500, `CRC-32C (${impl}) ran at ${mbPerSecond.toFixed(0)} MB/s`);
});
}
