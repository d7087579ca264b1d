// psql 15 (libpq) against the wire server: typed results, several statements in one -c, errors and SQLSTATEs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { psql, startServer } from './helpers.ts';

test('psql reads typed rows: ints, doubles, quoted and unicode text, NULLs, booleans, timestamptz, arrays', async (t) => {
  const { server } = await startServer(t);
  const r = await psql(server.port, ['SELECT id, customer, amount, paid, placed_at, tags FROM orders ORDER BY id']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.deepEqual(r.stdout.split('\n'), [
    `1|Ann "the" O'Neil|12.5|t|2026-11-22 05:00:00+00|{"a b",c}`,
    '2|Zoë 北京|7.25|f|2026-11-23 10:30:00+00|{}',
    '3|||||',
    '',
  ]);
});

test('psql with -F, and --csv', async (t) => {
  const { server } = await startServer(t);
  const comma = await psql(server.port, ['SELECT id, amount FROM orders WHERE id < 3 ORDER BY id'], ['-At', '-F,']);
  assert.equal(comma.stdout, '1,12.5\n2,7.25\n');
  const csv = await psql(server.port, ['SELECT id, customer, tags FROM orders ORDER BY id'], ['--csv']);
  assert.equal(csv.code, 0);
  assert.equal(csv.stdout, `id,customer,tags\n1,"Ann ""the"" O'Neil","{""a b"",c}"\n2,Zoë 北京,{}\n3,,\n`);
});

test('psql shows other DuckDB types in PostgreSQL text form', async (t) => {
  const { server } = await startServer(t);
  const sql = `SELECT 12.345::DECIMAL(18,3), [1, 2, NULL]::BIGINT[], {'a': 1, 'b': 'x'}, INTERVAL '1 day 2 hours', '\\xAB'::BLOB,
    DATE '2026-01-02', TIMESTAMP '2026-01-01 01:02:03.5', 1e-7::DOUBLE, 0.1::FLOAT, 42::HUGEINT, 7::TINYINT`;
  const r = await psql(server.port, [sql]);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '12.345|{1,2,NULL}|{"a":1,"b":"x"}|1 day 02:00:00|\\xab|2026-01-02|2026-01-01 01:02:03.5|1e-07|0.1|42|7\n');
});

test('several statements in one -c run in order; quotes, comments and dollar quotes are not split', async (t) => {
  const { server } = await startServer(t);
  const r = await psql(server.port, [`SELECT 1; SELECT 'a;b' /* ; */ ; -- ; \nSELECT $$c;d$$; SELECT count(*) FROM orders`]);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '1\na;b\nc;d\n3\n');
});

test('statements without rows report their command tag; an empty query is fine', async (t) => {
  const { server } = await startServer(t);
  const r = await psql(server.port, ['CREATE TABLE t2 (x INTEGER); INSERT INTO t2 VALUES (1), (2); SELECT sum(x) AS total FROM t2'], []);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'CREATE TABLE\nINSERT 0 2\n total \n-------\n     3\n(1 row)\n\n');
  const empty = await psql(server.port, [' ; -- nothing']);
  assert.equal(empty.code, 0);
  assert.equal(empty.stderr, '');
});

test('a syntax error prints ERROR: with the message and exits non-zero; the statements after it do not run', async (t) => {
  const { server } = await startServer(t);
  const r = await psql(server.port, ['SELECT 1; SELEC 2; SELECT 3']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^ERROR: {2}Parser Error: syntax error at or near "SELEC"/);
  assert.equal(r.stdout, '1\n');
});

test('\\set VERBOSITY verbose shows the SQLSTATE', async (t) => {
  const { server } = await startServer(t);
  const syntax = await psql(server.port, ['\\set VERBOSITY verbose', 'SELEC 1']);
  assert.match(syntax.stderr, /^ERROR: {2}42601: Parser Error/);
  const missing = await psql(server.port, ['\\set VERBOSITY verbose', 'SELECT * FROM no_such_table']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /^ERROR: {2}42P01: Catalog Error: Table with name no_such_table does not exist/);
});
