// Test helpers: a PgWireServer on port 0 backed by a real in-memory DuckDB, psql runs, and raw sockets; each helper
// registers its own cleanup.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { PgWireServer, type PgWireServerOptions } from '../../../src/query/pgwire/index.ts';
import { DuckDbExecutor } from './duckdb-executor.ts';

export type Harness = { server: PgWireServer; executor: DuckDbExecutor; logs: string[] };

export async function startServer(t: TestContext, options: Partial<PgWireServerOptions> = {}): Promise<Harness> {
  const executor = await DuckDbExecutor.create();
  await executor.setup(`
    CREATE TABLE orders (id BIGINT, customer VARCHAR, amount DOUBLE, paid BOOLEAN, placed_at TIMESTAMPTZ, tags VARCHAR[]);
    INSERT INTO orders VALUES
      (1, 'Ann "the" O''Neil', 12.5, true, TIMESTAMPTZ '2026-11-22 05:00:00+00', ['a b', 'c']),
      (2, 'Zoë 北京', 7.25, false, TIMESTAMPTZ '2026-11-23 10:30:00+00', []),
      (3, NULL, NULL, NULL, NULL, NULL);
  `);
  const logs: string[] = [];
  const server = await PgWireServer.start({ host: '127.0.0.1', port: 0, executor, log: (l) => logs.push(l), ...options });
  t.after(async () => {
    await server.close();
    executor.close();
  });
  return { server, executor, logs };
}

export type PsqlRun = { code: number | null; stdout: string; stderr: string };

/** Runs psql 15 against the server; each entry of `commands` is one -c. */
export function psql(port: number, commands: string[], flags: string[] = ['-At']): Promise<PsqlRun> {
  const args = ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'anyone', '-d', 'lake', ...flags];
  for (const c of commands) args.push('-c', c);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/psql', args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'psql-test', LANG: 'C.UTF-8', PGCLIENTENCODING: 'UTF8' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A node-postgres client, connected, ended after the test. */
export async function pgClient(t: TestContext, port: number): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'anyone', database: 'lake', application_name: 'pg-test' });
  client.on('error', () => undefined);
  await client.connect();
  t.after(() => client.end().catch(() => undefined));
  return client;
}

/** A raw TCP socket to the server, destroyed after the test. */
export async function rawSocket(t: TestContext, port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  t.after(() => socket.destroy());
  return socket;
}

/** StartupMessage for protocol 3.0 with the given parameters. */
export function startupMessage(params: Record<string, string>): Buffer {
  const parts = [Buffer.alloc(8)];
  for (const [k, v] of Object.entries(params)) parts.push(Buffer.from(`${k}\0${v}\0`, 'utf8'));
  parts.push(Buffer.from([0]));
  const msg = Buffer.concat(parts);
  msg.writeInt32BE(msg.length, 0);
  msg.writeInt32BE(196608, 4);
  return msg;
}

/** A typed frontend message: Byte1 type, Int32 length, body. */
export function frontendMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Reads from a socket until `done(allBytes)` is true or the socket closes; resolves with what arrived and whether it closed. */
export function readUntil(socket: net.Socket, done: (all: Buffer) => boolean, timeoutMs = 5000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ data, closed });
    };
    const onData = (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (done(data)) finish(false);
    };
    const onClose = () => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Splits backend bytes (after startup) into [type, body] messages. */
export function backendMessages(data: Buffer): { type: string; body: Buffer }[] {
  const out: { type: string; body: Buffer }[] = [];
  let i = 0;
  while (i + 5 <= data.length) {
    const len = data.readInt32BE(i + 1);
    if (i + 1 + len > data.length) break;
    out.push({ type: String.fromCharCode(data[i]!), body: data.subarray(i + 5, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}

/** The SQLSTATE (C field) of an ErrorResponse body. */
export function errorCode(body: Buffer): string | undefined {
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const field = String.fromCharCode(body[i]!);
    const end = body.indexOf(0, i + 1);
    if (field === 'C') return body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return undefined;
}
