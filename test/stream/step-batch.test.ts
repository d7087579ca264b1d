import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { DeadLetterCode } from '../../src/stream/errors.ts';
import type { SourceRecord, TextOutcome } from '../../src/stream/pipeline.ts';
import { decodeJob, decodeResult, encodeJob, encodeResult } from '../../src/stream/step-batch.ts';

function source(i: number, value: Buffer | null, key: Buffer | null = null): SourceRecord {
  return { key, value, headers: i % 3 === 0 ? [{ key: 'h', value: Buffer.from(`v${i}`) }] : [], topic: 'orders.raw', partition: 2, offset: 1000 + i, timestamp: 1_700_000_000_000 + i };
}

test('a job comes out of the other side as the records that went in: values, keys, nulls, headers, offsets, timestamps', () => {
  const sources = [source(0, Buffer.from('{"a":1}'), Buffer.from('k0')), source(1, null), source(2, Buffer.alloc(0), null), source(3, Buffer.from('{"b":"é"}'), Buffer.alloc(0))];
  const back = decodeJob(encodeJob(7, sources).job);
  assert.equal(back.length, sources.length);
  for (let i = 0; i < sources.length; i++) {
    const [a, b] = [sources[i]!, back[i]!];
    assert.deepEqual(b.value === null ? null : Buffer.from(b.value), a.value);
    assert.deepEqual(b.key === null ? null : Buffer.from(b.key), a.key);
    assert.deepEqual(
      b.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString()]),
      a.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
    );
    assert.equal(b.offset, Number(a.offset));
    assert.equal(b.timestamp, Number(a.timestamp));
    assert.equal(b.topic, 'orders.raw');
    assert.equal(b.partition, 2);
  }
});

test('results: each processed text arrives as its UTF-8 bytes, however many bytes its characters take, with filtered and dead letters in place', () => {
  // ASCII only, then texts whose UTF-8 is longer than their length in characters (2, 3 and 4-byte characters), long
  // enough that the reply buffer, sized for ASCII, has to grow more than once.
  const texts = ['{"a":1}', '{"b":""}', `{"c":"${'é'.repeat(500)}"}`, `{"d":"${'中'.repeat(2000)}"}`, `{"e":"${'🦆'.repeat(3000)}"}`, '{"f":"plain"}'];
  const outcomes: TextOutcome[] = [];
  const sources: SourceRecord[] = [];
  for (let i = 0; i < texts.length; i++) {
    outcomes.push({ kind: 'processed', json: texts[i]!, key: null, headers: [] });
    sources.push(source(sources.length, Buffer.from('{}')));
    if (i === 1) {
      outcomes.push({ kind: 'filtered', rule: 'only-paid' });
      sources.push(source(sources.length, Buffer.from('{}')));
    }
    if (i === 3) {
      outcomes.push({ kind: 'dead-letter', code: DeadLetterCode.SCHEMA_VIOLATION, message: 'at /x: must be integer', step: 'check' });
      sources.push(source(sources.length, Buffer.from('{}'), Buffer.from('key')));
    }
  }
  const { result, transfer } = encodeResult(3, outcomes);
  assert.equal(result.out.byteLength, texts.reduce((n, t) => n + Buffer.byteLength(t), 0), 'the reply holds the texts and nothing more');
  assert.ok(transfer.includes(result.out.buffer as ArrayBuffer));
  const decoded = decodeResult(result, sources);
  const processed = decoded.filter((o) => o.kind === 'processed');
  assert.deepEqual(
    processed.map((o) => o.value.toString('utf8')),
    texts,
  );
  assert.deepEqual(decoded[2], { kind: 'filtered', rule: 'only-paid' });
  assert.deepEqual(decoded[5], { kind: 'dead-letter', code: DeadLetterCode.SCHEMA_VIOLATION, message: 'at /x: must be integer', step: 'check' });
  assert.equal(processed[0]!.headers, sources[0]!.headers, 'a processed record keeps its source headers');
});

test('results of a slice with nothing processed are empty, not an error', () => {
  const outcomes: TextOutcome[] = [{ kind: 'filtered', rule: 'r' }, { kind: 'dead-letter', code: DeadLetterCode.INVALID_JSON, message: 'm', step: 'parse' }];
  const { result } = encodeResult(1, outcomes);
  assert.equal(result.out.byteLength, 0);
  assert.deepEqual(
    decodeResult(result, [source(0, null), source(1, null)]).map((o) => o.kind),
    ['filtered', 'dead-letter'],
  );
});

test("a job's buffer comes back with its result and the next job is packed into it; a reply given back takes the next outcomes", async () => {
  const first = Array.from({ length: 50 }, (_, i) => source(i, Buffer.from(`{"n":${i},"pad":"${'x'.repeat(100)}"}`), Buffer.from(`k${i}`)));
  const { job, transfer } = encodeJob(1, first);
  assert.ok(transfer.includes(job.data.buffer as ArrayBuffer));
  // Across a real channel, as between the worker and a step thread: the buffers move, they are not copied.
  const channel = new MessageChannel();
  const arrived = new Promise<{ data: Uint8Array }>((resolve) => channel.port2.once('message', resolve));
  channel.port1.postMessage(job, transfer);
  const received = (await arrived) as unknown as typeof job;
  assert.equal(job.data.byteLength, 0, 'the sender no longer holds the job');
  const records = decodeJob(received);
  const outcomes: TextOutcome[] = records.map((r) => ({ kind: 'processed', json: r.value!.toString('utf8'), key: null, headers: [] }));
  const { result, transfer: back } = encodeResult(1, outcomes, received.data.buffer as ArrayBuffer);
  assert.equal(result.spare, received.data.buffer);
  assert.ok(back.includes(result.spare!), 'the spare moves back with the result');
  const returned = new Promise<typeof result>((resolve) => channel.port1.once('message', resolve));
  channel.port2.postMessage(result, back);
  const answer = await returned;
  channel.port1.close();
  assert.deepEqual(decodeResult(answer, first).map((o) => (o.kind === 'processed' ? o.value.toString('utf8') : o.kind)), first.map((s) => s.value!.toString('utf8')));

  // The next job of about the same size is packed into the buffer that came back, and reads as its own records.
  const second = Array.from({ length: 40 }, (_, i) => source(i, Buffer.from(`{"second":${i}}`), null));
  const reused = encodeJob(2, second, answer.spare);
  assert.equal(reused.job.data.buffer, answer.spare, 'packed into the spare');
  assert.deepEqual(decodeJob(reused.job).map((r) => r.value!.toString('utf8')), second.map((s) => s.value!.toString('utf8')));
  // The first reply, once the worker gives it back, takes the second job's outcomes; a larger reply gets a new buffer.
  const reply = answer.out.buffer as ArrayBuffer;
  const secondOutcomes: TextOutcome[] = second.map((s) => ({ kind: 'processed', json: s.value!.toString('utf8'), key: null, headers: [] }));
  const into = encodeResult(2, secondOutcomes, null, reply);
  assert.equal(into.result.out.buffer, reply, 'written into the reply given back');
  assert.ok(into.transfer.includes(reply));
  assert.deepEqual(decodeResult(into.result, second).map((o) => (o.kind === 'processed' ? o.value.toString('utf8') : o.kind)), second.map((s) => s.value!.toString('utf8')));
  const bigOutcomes: TextOutcome[] = [{ kind: 'processed', json: `{"big":"${'z'.repeat(reply.byteLength)}"}`, key: null, headers: [] }];
  assert.notEqual(encodeResult(3, bigOutcomes, null, reply).result.out.buffer, reply, 'too small: a new buffer');
  // A job larger than the spare gets a buffer of its own.
  const large = Array.from({ length: 200 }, (_, i) => source(i, Buffer.from(`{"large":"${'y'.repeat(200)}","i":${i}}`)));
  const fresh = encodeJob(3, large, reused.job.data.buffer as ArrayBuffer);
  assert.notEqual(fresh.job.data.buffer, reused.job.data.buffer);
  assert.deepEqual(decodeJob(fresh.job).map((r) => r.value!.toString('utf8')), large.map((s) => s.value!.toString('utf8')));
});
