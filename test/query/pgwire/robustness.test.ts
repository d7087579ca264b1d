// Broken and hostile clients on raw sockets: each one costs only its own connection, and the server keeps serving.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { SqlExecutor } from '../../../src/query/pgwire/index.ts';
import { backendMessages, errorCode, frontendMessage, pgClient, rawSocket, readUntil, startServer, startupMessage } from './helpers.ts';

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const endsWithReady = (all: Buffer) => backendMessages(all).some((m) => m.type === 'Z');

async function stillServes(t: Parameters<typeof startServer>[0], port: number): Promise<void> {
  const client = await pgClient(t, port);
  assert.deepEqual((await client.query('SELECT 42::INTEGER AS answer')).rows, [{ answer: 42 }]);
}

/** A raw connection past startup, with the startup answer consumed. */
async function loggedIn(t: Parameters<typeof startServer>[0], port: number) {
  const socket = await rawSocket(t, port);
  socket.write(startupMessage({ user: 'raw', database: 'lake' }));
  const hello = await readUntil(socket, endsWithReady);
  return { socket, hello: backendMessages(hello.data) };
}

test('SSLRequest and GSSENCRequest are answered N and the startup goes on in plain text', async (t) => {
  const { server } = await startServer(t);
  const socket = await rawSocket(t, server.port);
  for (const code of [80877104, 80877103]) {
    const answer = readUntil(socket, (all) => all.length >= 1);
    socket.write(Buffer.concat([int32(8), int32(code)]));
    assert.equal((await answer).data.toString(), 'N');
  }
  socket.write(startupMessage({ user: 'raw', database: 'lake', application_name: 'raw-test' }));
  const { data } = await readUntil(socket, endsWithReady);
  const messages = backendMessages(data);
  assert.deepEqual(messages.map((m) => m.type), ['R', ...new Array<string>(11).fill('S'), 'K', 'Z']);
  const status = new Map(messages.filter((m) => m.type === 'S').map((m) => m.body.toString('utf8').split('\0').slice(0, 2) as [string, string]));
  assert.equal(status.get('server_version'), '15.0 (Oxbow)');
  assert.equal(status.get('client_encoding'), 'UTF8');
  assert.equal(status.get('DateStyle'), 'ISO, MDY');
  assert.equal(status.get('TimeZone'), 'UTC');
  assert.equal(status.get('integer_datetimes'), 'on');
  assert.equal(status.get('standard_conforming_strings'), 'on');
  assert.equal(status.get('application_name'), 'raw-test');
  assert.equal(messages.at(-1)!.body.toString(), 'I');
});

test('garbage bytes and a truncated startup close only that connection', async (t) => {
  const { server, logs } = await startServer(t);
  const http = await rawSocket(t, server.port);
  http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await readUntil(http, () => false)).closed, true);
  assert.match(logs.join('\n'), /invalid startup packet length/);

  const tiny = await rawSocket(t, server.port);
  tiny.write(Buffer.from([0, 0, 0, 2, 1, 2]));
  assert.equal((await readUntil(tiny, () => false)).closed, true);

  const truncated = await rawSocket(t, server.port);
  truncated.write(startupMessage({ user: 'raw' }).subarray(0, 10));
  await sleep(50);
  truncated.destroy();
  await stillServes(t, server.port);
});

test('an unknown message type gets 08P01 and the connection is closed', async (t) => {
  const { server, logs } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  socket.write(frontendMessage('@', Buffer.from('hello')));
  const { data, closed } = await readUntil(socket, () => false);
  assert.equal(closed, true);
  const [error] = backendMessages(data);
  assert.equal(error?.type, 'E');
  assert.equal(errorCode(error.body), '08P01');
  assert.match(logs.join('\n'), /OXBOW_PGWIRE_PROTOCOL_VIOLATION: invalid frontend message type "@"/);
  await stillServes(t, server.port);
});

test('a message over maxMessageBytes closes the connection with a log line', async (t) => {
  const { server, logs } = await startServer(t, { maxMessageBytes: 1024 });
  const { socket } = await loggedIn(t, server.port);
  socket.write(frontendMessage('Q', cstr(`SELECT '${'x'.repeat(2000)}'`)));
  const { data, closed } = await readUntil(socket, () => false);
  assert.equal(closed, true);
  assert.equal(errorCode(backendMessages(data)[0]!.body), '54000');
  assert.match(logs.join('\n'), /OXBOW_PGWIRE_MESSAGE_TOO_LARGE: message "Q" of \d+ bytes exceeds maxMessageBytes \(1024\)/);
  await stillServes(t, server.port);
});

test('an empty query gets EmptyQueryResponse; Terminate closes cleanly', async (t) => {
  const { server, logs } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  const reply = readUntil(socket, endsWithReady);
  socket.write(frontendMessage('Q', cstr('  -- only a comment\n')));
  assert.deepEqual(backendMessages((await reply).data).map((m) => m.type), ['I', 'Z']);
  socket.write(frontendMessage('X'));
  assert.equal((await readUntil(socket, () => false)).closed, true);
  assert.deepEqual(logs, []);
});

test('extended protocol: after an error, messages are discarded until Sync', async (t) => {
  const { server } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  const reply = readUntil(socket, endsWithReady);
  socket.write(
    Buffer.concat([
      frontendMessage('P', Buffer.concat([cstr(''), cstr('SELECT 1'), int16(0)])),
      frontendMessage('B', Buffer.concat([cstr(''), cstr('no-such-statement'), int16(0), int16(0), int16(0)])),
      frontendMessage('D', Buffer.concat([Buffer.from('P'), cstr('')])),
      frontendMessage('E', Buffer.concat([cstr(''), int32(0)])),
      frontendMessage('S'),
    ]),
  );
  const messages = backendMessages((await reply).data);
  assert.deepEqual(messages.map((m) => m.type), ['1', 'E', 'Z']);
  assert.equal(errorCode(messages[1]!.body), '26000');
  // The connection goes on: Parse, Describe statement, Bind, Execute with a row limit, Execute again, Sync.
  const next = readUntil(socket, endsWithReady);
  socket.write(
    Buffer.concat([
      frontendMessage('P', Buffer.concat([cstr('s1'), cstr('SELECT i FROM range(10) t(i) WHERE i < $1::BIGINT ORDER BY i'), int16(0)])),
      frontendMessage('D', Buffer.concat([Buffer.from('S'), cstr('s1')])),
      frontendMessage('B', Buffer.concat([cstr('p1'), cstr('s1'), int16(0), int16(1), int32(1), Buffer.from('3'), int16(0)])),
      frontendMessage('E', Buffer.concat([cstr('p1'), int32(2)])),
      frontendMessage('E', Buffer.concat([cstr('p1'), int32(2)])),
      frontendMessage('S'),
    ]),
  );
  const types = backendMessages((await next).data).map((m) => m.type);
  assert.deepEqual(types, ['1', 't', 'T', '2', 'D', 'D', 's', 'D', 'C', 'Z']);
});

test('an unexpected exception from the executor is XX000 for that statement only', async (t) => {
  const { executor } = await startServer(t);
  const faulty: SqlExecutor = {
    execute: async (sql, params, signal) => {
      if (sql.includes('explode')) throw new TypeError('executor bug');
      return executor.execute(sql, params, signal);
    },
  };
  const { PgWireServer } = await import('../../../src/query/pgwire/index.ts');
  const logs: string[] = [];
  const server = await PgWireServer.start({ host: '127.0.0.1', port: 0, executor: faulty, log: (l) => logs.push(l) });
  t.after(() => server.close());
  const client = await pgClient(t, server.port);
  await assert.rejects(client.query('SELECT explode()'), (err: Error & { code?: string }) => err.code === 'XX000' && /executor bug/.test(err.message));
  assert.match(logs.join('\n'), /unexpected error from the executor: TypeError: executor bug/);
  assert.deepEqual((await client.query('SELECT 1::INTEGER AS ok')).rows, [{ ok: 1 }]);
});

test('a slow reader slows the query down: rows are pulled only as the client reads them', { timeout: 60_000 }, async (t) => {
  const { server, executor } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  const total = 1_000_000;
  socket.pause();
  socket.write(frontendMessage('Q', cstr(`SELECT i, 'row ' || i AS label FROM range(${total}) t(i)`)));
  // Wait until the server has filled the socket's buffers and stopped pulling (a busy machine takes longer).
  let pulledWhilePaused = -1;
  for (let i = 0; i < 50 && executor.rowsYielded !== pulledWhilePaused; i++) {
    pulledWhilePaused = executor.rowsYielded;
    await sleep(400);
  }
  assert.ok(pulledWhilePaused > 0, 'the query started');
  assert.ok(pulledWhilePaused < total / 2, `only a bounded part of the result was produced while the client did not read (${pulledWhilePaused})`);
  await sleep(300);
  assert.equal(executor.rowsYielded, pulledWhilePaused, 'the server stopped pulling rows while the client did not read');
  let tail = Buffer.alloc(0);
  let bytes = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      tail = Buffer.concat([tail, d]).subarray(-64);
      if (tail.includes(Buffer.from(`SELECT ${total}\0`))) resolve();
    });
  });
  socket.resume();
  await done;
  assert.equal(executor.rowsYielded, total);
  assert.ok(bytes > total * 10);
});

test('a client that disconnects mid-result does not crash the server and frees the query', { timeout: 60_000 }, async (t) => {
  const { server, executor } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  socket.write(frontendMessage('Q', cstr('SELECT i FROM range(5000000) t(i)')));
  await readUntil(socket, (all) => all.length > 100_000);
  socket.destroy();
  for (let i = 0; i < 100 && executor.open > 0; i++) await sleep(20);
  assert.equal(executor.open, 0, 'the DuckDB connection of the abandoned query was released');
  assert.ok(executor.rowsYielded < 5_000_000);
  await stillServes(t, server.port);
});

test('maxConnections turns the next client away with 53300', async (t) => {
  const { server } = await startServer(t, { maxConnections: 1 });
  await pgClient(t, server.port);
  await assert.rejects(pgClient(t, server.port), { code: '53300' });
});

test('close() ends every connection with 57P01 and stops listening', async (t) => {
  const { server } = await startServer(t);
  const { socket } = await loggedIn(t, server.port);
  const closing = readUntil(socket, () => false);
  await server.close();
  const { data, closed } = await closing;
  assert.equal(closed, true);
  assert.equal(errorCode(backendMessages(data)[0]!.body), '57P01');
});
