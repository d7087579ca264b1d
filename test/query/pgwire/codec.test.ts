// The pure parts: statement splitting, parameter counting, and PostgreSQL text forms of DuckDB values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFloat, formatInterval, pgTypeFor, quoteArrayElement } from '../../../src/query/pgwire/pg-types.ts';
import { countParameters, firstKeyword, splitStatements } from '../../../src/query/pgwire/sql-text.ts';
import { SqlError, SqlErrorCode } from '../../../src/query/pgwire/index.ts';

test('splitStatements respects strings, identifiers, dollar quotes and comments', () => {
  assert.deepEqual(splitStatements('SELECT 1; SELECT 2;'), ['SELECT 1', 'SELECT 2']);
  assert.deepEqual(splitStatements(`SELECT 'a;''b'; SELECT "x;y" FROM t`), [`SELECT 'a;''b'`, 'SELECT "x;y" FROM t']);
  assert.deepEqual(splitStatements(`SELECT E'it\\'s;'; SELECT 2`), [`SELECT E'it\\'s;'`, 'SELECT 2']);
  assert.deepEqual(splitStatements('SELECT $$a;b$$, $tag$ $$ ; $tag$; SELECT 2'), ['SELECT $$a;b$$, $tag$ $$ ; $tag$', 'SELECT 2']);
  assert.deepEqual(splitStatements('SELECT 1 -- ; comment\n; /* ; /* nested ; */ */ SELECT 2'), ['SELECT 1 -- ; comment', '/* ; /* nested ; */ */ SELECT 2']);
  assert.deepEqual(splitStatements(' ; -- nothing\n ; /* */ '), []);
  assert.deepEqual(splitStatements('SELECT $1; SELECT 2'), ['SELECT $1', 'SELECT 2']);
  assert.deepEqual(splitStatements("SELECT 'unterminated; SELECT 2"), ["SELECT 'unterminated; SELECT 2"]);
});

test('countParameters and firstKeyword look only at code', () => {
  assert.equal(countParameters('SELECT $1, $3, \'$7\', "$8" -- $9\n'), 3);
  assert.equal(countParameters('SELECT $$ $5 $$'), 0);
  assert.equal(firstKeyword('  /* hi */ -- x\n  create table t (x int)'), 'CREATE');
  assert.equal(firstKeyword('(SELECT 1)'), 'SELECT');
});

test('DuckDB type names map to PostgreSQL OIDs', () => {
  const oid = (t: string) => pgTypeFor(t).oid;
  assert.deepEqual(
    ['BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL(18,3)', 'VARCHAR', 'DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'JSON', 'BLOB', 'UUID', 'INTERVAL', 'HUGEINT'].map(oid),
    [16, 21, 23, 20, 700, 701, 1700, 1043, 1082, 1114, 1184, 114, 17, 2950, 1186, 1700],
  );
  assert.deepEqual(['BIGINT[]', 'VARCHAR[]', 'INTEGER[3]', 'DOUBLE[][]', 'STRUCT("a" INTEGER)[]'].map(oid), [1016, 1015, 1007, 1022, 199]);
  assert.equal(oid('STRUCT("a" INTEGER, "b" VARCHAR)'), 114);
  assert.equal(oid('MAP(VARCHAR, INTEGER)'), 114);
  assert.equal(oid('SOMETHING_NEW'), 25);
  assert.equal(pgTypeFor('DECIMAL(18,3)').modifier, ((18 << 16) | 3) + 4);
});

test('values in PostgreSQL text form', () => {
  const text = (type: string, v: unknown) => pgTypeFor(type).text(v);
  assert.equal(text('BOOLEAN', true), 't');
  assert.equal(text('BOOLEAN', false), 'f');
  assert.equal(text('BIGINT', '9007199254740993'), '9007199254740993');
  assert.equal(text('BIGINT', 9007199254740993n), '9007199254740993');
  assert.equal(text('VARCHAR[]', ['a b', null, 'c"d', '', 'NULL', 'x\\y']), '{"a b",NULL,"c\\"d","","NULL","x\\\\y"}');
  assert.equal(text('INTEGER[][]', [[1, 2], [3]]), '{{1,2},{3}}');
  assert.equal(text('STRUCT("a" BIGINT)[]', [{ a: 1n }]), '{"{\\"a\\":1}"}');
  assert.equal(text('STRUCT("a" INTEGER, "b" VARCHAR)', { a: 1, b: 'x' }), '{"a":1,"b":"x"}');
  assert.equal(text('MAP(VARCHAR, INTEGER)', [{ key: 'k', value: 1 }]), '{"k":1}');
  assert.equal(text('JSON', '{"a": 1}'), '{"a": 1}');
  assert.equal(text('BLOB', '\\xAB\\x00z'), '\\xab007a');
  assert.equal(text('BLOB', new Uint8Array([1, 255])), '\\x01ff');
  assert.equal(text('TIMESTAMP WITH TIME ZONE', new Date('2026-11-22T05:00:00Z')), '2026-11-22 05:00:00+00');
  assert.equal(text('TIMESTAMP WITH TIME ZONE', '2026-11-22 05:00:00+00'), '2026-11-22 05:00:00+00');
  assert.equal(text('DATE', new Date('2026-01-02T00:00:00Z')), '2026-01-02');
  assert.equal(quoteArrayElement('plain'), 'plain');
});

test('floats and intervals as PostgreSQL writes them', () => {
  assert.deepEqual([1.5, 0.1, 1e-7, 1e15, 123456789012345, -0, NaN, Infinity, -Infinity].map((v) => formatFloat(v, 8)), [
    '1.5',
    '0.1',
    '1e-07',
    '1e+15',
    '123456789012345',
    '-0',
    'NaN',
    'Infinity',
    '-Infinity',
  ]);
  assert.equal(formatFloat(Math.fround(0.1), 4), '0.1');
  assert.equal(formatFloat(Math.fround(1234567), 4), '1.234567e+06');
  assert.equal(formatInterval({ months: 14, days: 3, micros: '14706500000' }), '1 year 2 mons 3 days 04:05:06.5');
  assert.equal(formatInterval({ months: 0, days: 0, micros: 0 }), '00:00:00');
  assert.equal(formatInterval({ months: 0, days: -1, micros: '-3600000000' }), '-1 days -01:00:00');
});

test('SqlError carries the SQLSTATE and an Oxbow code of its class', () => {
  assert.equal(new SqlError('42601', 'bad').code, SqlErrorCode.SYNTAX);
  assert.equal(new SqlError('42P01', 'missing').code, SqlErrorCode.INVALID_REFERENCE);
  assert.equal(new SqlError('57014', 'stop').code, SqlErrorCode.CANCELED);
  assert.equal(new SqlError('54000', 'big').code, SqlErrorCode.LIMIT_EXCEEDED);
  assert.equal(new SqlError('XX000', 'bug').code, SqlErrorCode.FAILED);
  assert.throws(() => new SqlError('bad', 'x'), /SQLSTATE must be 5 characters/);
});
