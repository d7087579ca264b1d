// A connection stops reading while too many bytes of its requests wait for their handlers, and reads the rest once
// they are answered: a client that pipelines large requests fills its socket, not the broker's memory.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { directReads } from '../../src/broker/broker.ts';
import { Connection, NO_RESPONSE, SHARED_READ_BUFFER } from '../../src/broker/connection.ts';
import { FramePool } from '../../src/broker/frame-pool.ts';
import { Writer } from '../../src/kafka/writer.ts';

const MiB = 1024 * 1024;
const PRODUCE = 0;

/** A request frame of `bytes` (size prefix included): a Produce header, then filler the handler never reads. */
function frame(correlationId: number, bytes: number): Buffer {
  const w = new Writer();
  w.int16(PRODUCE).int16(9).int32(correlationId).nullableString('pipeliner', false);
  const head = w.bytesWritten();
  const buf = Buffer.alloc(bytes);
  buf.writeInt32BE(bytes - 4, 0);
  head.copy(buf, 4);
  return buf;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits `ms` and asserts that `count()` did not change meanwhile. */
async function stays(count: () => number, ms: number): Promise<number> {
  const before = count();
  await new Promise((r) => setTimeout(r, ms));
  assert.equal(count(), before, 'more requests were read while the connection should have stopped reading');
  return before;
}

for (const mode of ['direct reads', 'data events'] as const) {
  test(`a connection (${mode}) holds at most maxInFlightBytes of unanswered requests and reads the rest as they are answered`, async (t) => {
    const seen: number[] = [];
    const waiting: (() => void)[] = [];
    const sockets: net.Socket[] = [];
    const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
      sockets.push(accepted);
      const made: { conn?: Connection } = {};
      const own =
        mode === 'direct reads'
          ? directReads(accepted, { buffer: () => made.conn?.nextReadBuffer() ?? SHARED_READ_BUFFER, callback: (n, buf) => made.conn?.onRead(n, buf) ?? false })
          : null;
      if (mode === 'direct reads') assert.ok(own !== null, 'this runtime offers direct reads');
      else accepted.resume();
      if (own !== null) sockets.push(own);
      made.conn = new Connection(
        own ?? accepted,
        1,
        (_info, header) => {
          seen.push(header.correlationId);
          return new Promise((resolve) => waiting.push(() => resolve(NO_RESPONSE)));
        },
        {
          directReads: own !== null,
          maxRequestBytes: 16 * MiB,
          maxInFlight: 64,
          maxInFlightBytes: 4 * MiB,
          serialApiKeys: new Set(),
          responseHighWaterBytes: 4 * MiB,
          idleTimeoutMs: 60_000,
          framePool: new FramePool(32 * MiB),
          reusableApiKeys: new Set([PRODUCE]),
          log: () => undefined,
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    t.after(async () => {
      client.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await new Promise<void>((resolve) => client.once('connect', resolve));

    // Twelve requests of 1 MiB (and their size prefixes), sent back to back: 12 MiB against a limit of 4 MiB.
    for (let i = 0; i < 12; i++) client.write(frame(i, MiB + 4));
    await until('the first requests are read', () => seen.length >= 4);
    assert.equal(await stays(() => seen.length, 300), 4, 'four requests of 1 MiB reach the limit of 4 MiB; the fifth waits in the socket');

    // Each answer lets one more request in: the connection stays at the limit, never above it.
    waiting.shift()!();
    await until('a fifth request is read', () => seen.length >= 5);
    assert.equal(await stays(() => seen.length, 200), 5);
    waiting.shift()!();
    await until('a sixth request is read', () => seen.length >= 6);
    assert.equal(await stays(() => seen.length, 200), 6);

    // Answering everything as it comes reads the rest, in order, with nothing lost.
    while (seen.length < 12 || waiting.length > 0) {
      if (waiting.length > 0) waiting.shift()!();
      else await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(seen, [...Array(12).keys()]);
  });
}
