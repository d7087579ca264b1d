// node-postgres (pg 8) against the wire server: the simple and extended protocols, type parsing by OID, errors,
// prepared statements, concurrency and cancellation.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pg from 'pg';
import { pgClient, startServer } from './helpers.ts';

test('simple query: rows parsed by type OID', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const r = await client.query('SELECT id::INTEGER AS id, customer, amount, paid, placed_at, tags FROM orders ORDER BY id');
  assert.equal(r.command, 'SELECT');
  assert.equal(r.rowCount, 3);
  assert.deepEqual(r.fields.map((f) => [f.name, f.dataTypeID]), [
    ['id', 23],
    ['customer', 1043],
    ['amount', 701],
    ['paid', 16],
    ['placed_at', 1184],
    ['tags', 1015],
  ]);
  assert.deepEqual(r.rows[0], {
    id: 1,
    customer: `Ann "the" O'Neil`,
    amount: 12.5,
    paid: true,
    placed_at: new Date('2026-11-22T05:00:00Z'),
    tags: ['a b', 'c'],
  });
  assert.deepEqual(r.rows[1], { id: 2, customer: 'Zoë 北京', amount: 7.25, paid: false, placed_at: new Date('2026-11-23T10:30:00Z'), tags: [] });
  assert.deepEqual(r.rows[2], { id: 3, customer: null, amount: null, paid: null, placed_at: null, tags: null });
});

test('parameterized query ($1, $2) over the extended protocol', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const r = await client.query('SELECT id, customer, amount * $2::DOUBLE AS doubled FROM orders WHERE id >= $1::BIGINT ORDER BY id', [2, 2]);
  assert.deepEqual(r.rows, [
    { id: '2', customer: 'Zoë 北京', doubled: 14.5 },
    { id: '3', customer: null, doubled: null },
  ]);
  const nulls = await client.query('SELECT $1::VARCHAR IS NULL AS is_null, $2::VARCHAR AS s', [null, 'it\'s "quoted"']);
  assert.deepEqual(nulls.rows, [{ is_null: true, s: 'it\'s "quoted"' }]);
  const json = await client.query(`SELECT {'k': 1, 'v': [1, 2]} AS s, '{"a": true}'::JSON AS j, [1, 2]::INTEGER[] AS ints`);
  assert.deepEqual(json.rows, [{ s: { k: 1, v: [1, 2] }, j: { a: true }, ints: [1, 2] }]);
});

test('a named prepared statement is parsed once and reused', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const byId = { name: 'order-by-id', text: 'SELECT customer FROM orders WHERE id = $1::BIGINT' };
  assert.deepEqual((await client.query({ ...byId, values: [1] })).rows, [{ customer: `Ann "the" O'Neil` }]);
  assert.deepEqual((await client.query({ ...byId, values: [2] })).rows, [{ customer: 'Zoë 北京' }]);
  assert.deepEqual((await client.query({ ...byId, values: [99] })).rows, []);
});

test('an error carries the SQLSTATE in err.code, and the connection stays usable', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  await assert.rejects(client.query('SELECT * FROM no_such_table'), (err: pg.DatabaseError) => {
    assert.equal(err.code, '42P01');
    assert.equal(err.severity, 'ERROR');
    assert.match(err.message, /no_such_table/);
    return true;
  });
  await assert.rejects(client.query('SELECT * FROM no_such_table WHERE x = $1', [1]), { code: '42P01' });
  await assert.rejects(client.query('SELEC 1'), { code: '42601' });
  assert.deepEqual((await client.query('SELECT 1::INTEGER AS one')).rows, [{ one: 1 }]);
  assert.deepEqual((await client.query('SELECT $1::INTEGER AS two', [2])).rows, [{ two: 2 }]);
});

test('statements without rows give their command tag', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const created = await client.query('CREATE TABLE t3 (x INTEGER)');
  assert.equal(created.command, 'CREATE');
  const inserted = await client.query('INSERT INTO t3 VALUES ($1::INTEGER), ($2::INTEGER)', [1, 2]);
  assert.equal(inserted.command, 'INSERT');
  assert.equal(inserted.rowCount, 2);
});

test('two clients at once', async (t) => {
  const { server } = await startServer(t);
  const a = await pgClient(t, server.port);
  const b = await pgClient(t, server.port);
  const [ra, rb] = await Promise.all([
    a.query('SELECT count(*)::INTEGER AS n FROM range(200000)'),
    b.query('SELECT $1::VARCHAR AS who', ['b']),
  ]);
  assert.deepEqual(ra.rows, [{ n: 200000 }]);
  assert.deepEqual(rb.rows, [{ who: 'b' }]);
  assert.equal(server.connectionCount, 2);
});

test('a running query is cancelled by pg\'s CancelRequest (57014) and the connection goes on', { timeout: 30_000 }, async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const running = client.query('SELECT count(*) FROM range(1000000000000) a, range(10) b');
  const failed = assert.rejects(running, { code: '57014' });
  await sleep(300);
  // pg's own cancel: a second Client opens a connection and sends CancelRequest with the first one's key.
  type Cancellable = { cancel: (target: pg.Client, query: unknown) => void };
  const canceller = new pg.Client({ host: '127.0.0.1', port: server.port }) as unknown as Cancellable;
  canceller.cancel(client, (client as unknown as { activeQuery: unknown }).activeQuery);
  await failed;
  assert.deepEqual((await client.query('SELECT 1::INTEGER AS ok')).rows, [{ ok: 1 }]);
});

test('a CancelRequest with the wrong secret key cancels nothing', { timeout: 30_000 }, async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const target = client as unknown as { processID: number; secretKey: number };
  const fake = { processID: target.processID, secretKey: target.secretKey ^ 1 } as unknown as pg.Client;
  const running = client.query('SELECT count(*)::INTEGER AS n FROM range(3000000)');
  type Cancellable = { cancel: (target: pg.Client, query: unknown) => void };
  const canceller = new pg.Client({ host: '127.0.0.1', port: server.port }) as unknown as Cancellable;
  (fake as unknown as { activeQuery: unknown }).activeQuery = (client as unknown as { activeQuery: unknown }).activeQuery;
  canceller.cancel(fake, (client as unknown as { activeQuery: unknown }).activeQuery);
  assert.deepEqual((await running).rows, [{ n: 3000000 }]);
});

test('binary result format for simple types; unsupported binary types are refused with 0A000', async (t) => {
  const { server } = await startServer(t);
  const client = await pgClient(t, server.port);
  const r = await client.query({ text: 'SELECT 7::INTEGER AS i, 2.5::DOUBLE AS d, true AS b, $1::VARCHAR AS s', values: ['x'], binary: true } as pg.QueryConfig);
  assert.equal(r.rows[0].i, 7);
  assert.equal(r.rows[0].d, 2.5);
  assert.equal(r.rows[0].b, true);
  assert.equal(r.rows[0].s, 'x');
  await assert.rejects(client.query({ text: 'SELECT DATE \'2026-01-02\' AS d, $1::INTEGER AS i', values: [1], binary: true } as pg.QueryConfig), { code: '0A000' });
  assert.deepEqual((await client.query('SELECT 1::INTEGER AS ok')).rows, [{ ok: 1 }]);
});
