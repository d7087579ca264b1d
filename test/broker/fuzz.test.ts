// Hostile bytes: random, truncated, oversized and lying frames. Each bad connection is dropped (or answered with an
// error) on its own; afterwards a well-behaved client still produces and consumes, and memory has not run away.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Writer } from '../../src/kafka/writer.ts';
import { run, startBroker } from '../helpers/broker.ts';

/** Deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function frame(body: Buffer, sizeOverride?: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(sizeOverride ?? body.length);
  return Buffer.concat([head, body]);
}

function header(apiKey: number, apiVersion: number, flexible: boolean): Writer {
  const w = new Writer();
  w.int16(apiKey).int16(apiVersion).int32(7).nullableString('fuzzer', false);
  if (flexible) w.uvarint(0);
  return w;
}

/** Sends bytes, then waits until the broker closes the socket or answers, or 1 s passes; returns what came back. */
function exchange(port: number, bytes: Buffer, endAfterWrite: boolean): Promise<{ reply: Buffer; closedByBroker: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByBroker = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ reply: Buffer.concat(chunks), closedByBroker });
    }, 1000);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => (closedByBroker = true));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closedByBroker });
    });
    sock.on('error', () => undefined);
    sock.write(bytes, () => {
      if (endAfterWrite) sock.end();
    });
  });
}

test('random, truncated, oversized and lying frames do not disturb the broker', async (t) => {
  const { broker, address, logs } = await startBroker(t, { maxRequestBytes: 1024 * 1024 });
  const port = broker.port;
  const rand = prng(20261122);
  const int = (n: number) => Math.floor(rand() * n);
  const rssBefore = process.memoryUsage().rss;

  // Named cases first, each with the outcome a user would expect.
  const oversized = await exchange(port, frame(Buffer.alloc(16), 512 * 1024 * 1024), false);
  assert.equal(oversized.reply.length, 0);
  assert.ok(logs.some((l) => /exceeds broker\.maxRequestBytes/.test(l)), 'oversized frame is logged');

  const negative = await exchange(port, frame(Buffer.alloc(16), -5), false);
  assert.equal(negative.reply.length, 0);

  const unknownApi = await exchange(port, frame(header(999, 0, false).bytesWritten()), false);
  assert.equal(unknownApi.reply.length, 0);
  assert.ok(logs.some((l) => /unknown api key 999/.test(l)));

  // ApiVersions at a version from the future gets a v0 answer with UNSUPPORTED_VERSION (35) and our ranges.
  const future = await exchange(port, frame(header(18, 99, false).bytesWritten()), false);
  assert.ok(future.reply.length > 10);
  assert.equal(future.reply.readInt32BE(4), 7, 'correlation id echoed');
  assert.equal(future.reply.readInt16BE(8), 35);

  // A Metadata v9 request whose body is cut short closes only that connection.
  const cut = header(3, 9, true).uvarint(5).bytesWritten();
  await exchange(port, frame(cut), false);
  assert.ok(logs.some((l) => /malformed Metadata v9 request/.test(l)));

  // Then a few hundred random cases, bounded in count and time.
  for (let i = 0; i < 300; i++) {
    const kind = int(4);
    let bytes: Buffer;
    if (kind === 0) {
      bytes = Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256)));
    } else if (kind === 1) {
      // A plausible header for a real API and version, then random body bytes.
      const apiKey = [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 22, 23][int(16)]!;
      const version = int(10);
      const body = Buffer.from(Array.from({ length: int(120) }, () => int(256)));
      bytes = frame(Buffer.concat([header(apiKey, version, version >= 9).bytesWritten(), body]));
    } else if (kind === 2) {
      // Truncated: the size says more than is ever sent, then the client hangs up.
      const body = header(int(24), int(5), false).bytesWritten();
      bytes = frame(body, body.length + 1 + int(1000)).subarray(0, 4 + int(body.length));
    } else {
      // A lying array count inside an otherwise valid Metadata v1 request.
      const w = header(3, 1, false);
      w.int32(0x7fff0000 - int(1000));
      bytes = frame(w.bytesWritten());
    }
    await exchange(port, bytes, true);
  }

  // A well-behaved client still works end to end.
  const lines = Array.from({ length: 500 }, (_, i) => `after-fuzz-${i}`);
  await run('kcat', ['-b', address, '-P', '-t', 'after.fuzz'], { input: `${lines.join('\n')}\n` });
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', 'after.fuzz', '-o', 'beginning', '-e']);
  assert.deepEqual(stdout.toString().split('\n').slice(0, -1), lines);
  // Every fuzz connection is gone and memory has not grown without bound.
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(broker.stats.connectionsOpen <= 2, `${broker.stats.connectionsOpen} connections still open`);
  const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
  assert.ok(grownMb < 150, `RSS grew by ${grownMb.toFixed(0)} MB`);
});
