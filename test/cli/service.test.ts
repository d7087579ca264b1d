// The long-running commands (broker, up, stream, sink) print a ready line and then run until SIGTERM or SIGINT. A
// supervisor or a script that signals as soon as it reads that line must get a clean shutdown, not the default
// action of a signal nobody handles yet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runUntilSignal } from '../../src/cli/service.ts';

void test('the ready line goes out only once SIGTERM and SIGINT are handled; a signal then shuts down cleanly', async () => {
  const ready = 'service started\n';
  const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
  let handledWhenReady: { term: number; int: number } | null = null;
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  const said: string[] = [];
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (chunk === ready) {
      handledWhenReady = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
      return true;
    }
    return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (said.push(String(chunk)), true)) as typeof process.stderr.write;
  let shutdowns = 0;
  try {
    const running = runUntilSignal(ready, async () => {
      shutdowns++;
    });
    assert.deepEqual(handledWhenReady, { term: before.term + 1, int: before.int + 1 }, 'both signals have a handler when the ready line is written');
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(await running, 0);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  assert.equal(shutdowns, 1);
  assert.deepEqual(said, ['SIGTERM: shutting down\n', 'stopped cleanly\n']);
  assert.deepEqual({ term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }, before, 'no handler is left behind');
});
