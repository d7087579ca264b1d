// DuckDB type names mapped to PostgreSQL types: the OID and width a RowDescription announces, and how a value is
// written in text format (and, for the simple fixed-width types, binary format). OIDs are pg_type's, from PostgreSQL.

/** PostgreSQL type OIDs (pg_type.oid) this server announces. */
export const PgOid = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  bit: 1560,
  varbit: 1562,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** The array type of each element type (pg_type.typarray). */
const ARRAY_OID: Record<number, number> = {
  [PgOid.bool]: 1000,
  [PgOid.bytea]: 1001,
  [PgOid.int2]: 1005,
  [PgOid.int4]: 1007,
  [PgOid.text]: 1009,
  [PgOid.bpchar]: 1014,
  [PgOid.varchar]: 1015,
  [PgOid.int8]: 1016,
  [PgOid.float4]: 1021,
  [PgOid.float8]: 1022,
  [PgOid.timestamp]: 1115,
  [PgOid.date]: 1182,
  [PgOid.time]: 1183,
  [PgOid.timestamptz]: 1185,
  [PgOid.interval]: 1187,
  [PgOid.numeric]: 1231,
  [PgOid.timetz]: 1270,
  [PgOid.bit]: 1561,
  [PgOid.varbit]: 1563,
  [PgOid.uuid]: 2951,
  [PgOid.json]: 199,
  [PgOid.jsonb]: 3807,
};

/** How one column's values go on the wire. */
export type PgType = {
  oid: number;
  /** pg_type.typlen: fixed width in bytes, -1 variable. */
  size: number;
  /** atttypmod: -1 unless the type has one (numeric precision and scale). */
  modifier: number;
  /** The value (not null) in PostgreSQL's text output form. */
  text: (v: unknown) => string;
  /** The value in binary form, or undefined when this server has no binary encoding for the type. */
  binary: ((v: unknown) => Buffer) | undefined;
};

type Scalar = Omit<PgType, 'modifier'>;

const BOOL: Scalar = {
  oid: PgOid.bool,
  size: 1,
  text: (v) => (truthy(v) ? 't' : 'f'),
  binary: (v) => Buffer.from([truthy(v) ? 1 : 0]),
};

function int(oid: number, size: 2 | 4 | 8): Scalar {
  return {
    oid,
    size,
    text: (v) => (typeof v === 'number' ? String(Math.trunc(v)) : String(v)),
    binary: (v) => {
      const b = Buffer.allocUnsafe(size);
      if (size === 8) b.writeBigInt64BE(BigInt(typeof v === 'number' ? Math.trunc(v) : String(v)));
      else if (size === 4) b.writeInt32BE(Number(v));
      else b.writeInt16BE(Number(v));
      return b;
    },
  };
}

function float(oid: number, size: 4 | 8): Scalar {
  return {
    oid,
    size,
    text: (v) => (typeof v === 'number' ? formatFloat(v, size) : String(v)),
    binary: (v) => {
      const n = typeof v === 'number' ? v : Number(v);
      const b = Buffer.allocUnsafe(size);
      if (size === 8) b.writeDoubleBE(n);
      else b.writeFloatBE(n);
      return b;
    },
  };
}

const utf8 = (text: (v: unknown) => string) => (v: unknown) => Buffer.from(text(v), 'utf8');

function textLike(oid: number): Scalar {
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && !(v instanceof Date) ? toJsonText(v) : String(v));
  return { oid, size: -1, text, binary: utf8(text) };
}

const NUMERIC: Scalar = { oid: PgOid.numeric, size: -1, text: (v) => String(v), binary: undefined };
const DATE: Scalar = {
  oid: PgOid.date,
  size: 4,
  text: (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)),
  binary: undefined,
};
const TIMESTAMP: Scalar = { oid: PgOid.timestamp, size: 8, text: (v) => (v instanceof Date ? isoSpace(v) : String(v)), binary: undefined };
const TIMESTAMPTZ: Scalar = { oid: PgOid.timestamptz, size: 8, text: (v) => (v instanceof Date ? `${isoSpace(v)}+00` : String(v)), binary: undefined };
const TIME: Scalar = { oid: PgOid.time, size: 8, text: (v) => String(v), binary: undefined };
const TIMETZ: Scalar = { oid: PgOid.timetz, size: 12, text: (v) => String(v), binary: undefined };
const INTERVAL: Scalar = { oid: PgOid.interval, size: 16, text: formatInterval, binary: undefined };
const BYTEA: Scalar = {
  oid: PgOid.bytea,
  size: -1,
  text: (v) => `\\x${toBytes(v).toString('hex')}`,
  binary: (v) => toBytes(v),
};
const UUID: Scalar = {
  oid: PgOid.uuid,
  size: 16,
  text: (v) => String(v),
  binary: (v) => Buffer.from(String(v).replaceAll('-', ''), 'hex'),
};
const JSON_TYPE: Scalar = {
  oid: PgOid.json,
  size: -1,
  // A JSON column arrives as its JSON text; a struct, map or union arrives as a value and is written as JSON.
  text: (v) => (typeof v === 'string' ? v : toJsonText(v)),
  binary: undefined,
};
JSON_TYPE.binary = utf8(JSON_TYPE.text);
const STRUCT_AS_JSON: Scalar = { oid: PgOid.json, size: -1, text: (v) => toJsonText(v), binary: undefined };
STRUCT_AS_JSON.binary = utf8(STRUCT_AS_JSON.text);
const MAP_AS_JSON: Scalar = { oid: PgOid.json, size: -1, text: (v) => toJsonText(mapToObject(v)), binary: undefined };
MAP_AS_JSON.binary = utf8(MAP_AS_JSON.text);

const SCALARS: Record<string, Scalar> = {
  BOOLEAN: BOOL,
  BOOL: BOOL,
  LOGICAL: BOOL,
  TINYINT: int(PgOid.int2, 2),
  INT1: int(PgOid.int2, 2),
  UTINYINT: int(PgOid.int2, 2),
  SMALLINT: int(PgOid.int2, 2),
  INT2: int(PgOid.int2, 2),
  SHORT: int(PgOid.int2, 2),
  USMALLINT: int(PgOid.int4, 4),
  INTEGER: int(PgOid.int4, 4),
  INT: int(PgOid.int4, 4),
  INT4: int(PgOid.int4, 4),
  SIGNED: int(PgOid.int4, 4),
  UINTEGER: int(PgOid.int8, 8),
  BIGINT: int(PgOid.int8, 8),
  INT8: int(PgOid.int8, 8),
  LONG: int(PgOid.int8, 8),
  UBIGINT: NUMERIC,
  HUGEINT: NUMERIC,
  INT128: NUMERIC,
  UHUGEINT: NUMERIC,
  BIGNUM: NUMERIC,
  VARINT: NUMERIC,
  DECIMAL: NUMERIC,
  NUMERIC: NUMERIC,
  FLOAT: float(PgOid.float4, 4),
  FLOAT4: float(PgOid.float4, 4),
  REAL: float(PgOid.float4, 4),
  DOUBLE: float(PgOid.float8, 8),
  FLOAT8: float(PgOid.float8, 8),
  'DOUBLE PRECISION': float(PgOid.float8, 8),
  VARCHAR: textLike(PgOid.varchar),
  STRING: textLike(PgOid.varchar),
  CHAR: textLike(PgOid.varchar),
  BPCHAR: textLike(PgOid.varchar),
  TEXT: textLike(PgOid.text),
  DATE: DATE,
  TIME: TIME,
  'TIME WITH TIME ZONE': TIMETZ,
  TIMETZ: TIMETZ,
  TIMESTAMP: TIMESTAMP,
  DATETIME: TIMESTAMP,
  TIMESTAMP_S: TIMESTAMP,
  TIMESTAMP_MS: TIMESTAMP,
  TIMESTAMP_NS: TIMESTAMP,
  'TIMESTAMP WITH TIME ZONE': TIMESTAMPTZ,
  TIMESTAMPTZ: TIMESTAMPTZ,
  INTERVAL: INTERVAL,
  BLOB: BYTEA,
  BYTEA: BYTEA,
  BINARY: BYTEA,
  VARBINARY: BYTEA,
  UUID: UUID,
  JSON: JSON_TYPE,
  BIT: textLike(PgOid.varbit),
  BITSTRING: textLike(PgOid.varbit),
  '"NULL"': textLike(PgOid.text),
  NULL: textLike(PgOid.text),
};

/** Maps a DuckDB type name (as DuckDBType.toString() prints it) to the PostgreSQL type this server announces. */
export function pgTypeFor(duckdbType: string): PgType {
  const t = duckdbType.trim();
  const upper = t.toUpperCase();
  // Nested lists (INTEGER[][]) are one PostgreSQL array type with more dimensions.
  const array = /^(.*?)(?:\[\d*\])+$/s.exec(t);
  if (array) return arrayOf(pgTypeFor(array[1]!));
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(upper);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2] ?? 0);
    return { ...NUMERIC, modifier: ((precision << 16) | scale) + 4 };
  }
  if (/^(STRUCT|UNION)\s*\(/.test(upper)) return { ...STRUCT_AS_JSON, modifier: -1 };
  if (/^MAP\s*\(/.test(upper)) return { ...MAP_AS_JSON, modifier: -1 };
  if (/^ENUM\s*\(/.test(upper)) return { ...textLike(PgOid.varchar), modifier: -1 };
  const base = upper.replace(/\s*\(.*\)$/s, ''); // VARCHAR(10), TIMESTAMP(3)
  const scalar = SCALARS[base];
  return { ...(scalar ?? textLike(PgOid.text)), modifier: -1 };
}

function arrayOf(element: PgType): PgType {
  const oid = ARRAY_OID[element.oid] ?? 1009;
  const elementText = ARRAY_OID[element.oid] === undefined ? (v: unknown) => (typeof v === 'string' ? v : toJsonText(v)) : element.text;
  const text = (v: unknown): string => {
    if (!Array.isArray(v)) return String(v);
    return `{${v.map((e) => (e === null || e === undefined ? 'NULL' : Array.isArray(e) ? text(e) : quoteArrayElement(elementText(e)))).join(',')}}`;
  };
  return { oid, size: -1, modifier: -1, text, binary: undefined };
}

/** Array elements are quoted when empty, when they look like NULL, or when they hold a delimiter, brace, quote or space. */
export function quoteArrayElement(s: string): string {
  if (s !== '' && !/[{},"\\\s]/.test(s) && s.toUpperCase() !== 'NULL') return s;
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return v === 't' || v.toLowerCase() === 'true';
  return Boolean(v);
}

/**
 * Floats the way PostgreSQL 12+ writes them (extra_float_digits 1): the shortest text that reads back as the same value,
 * in exponent form with at least two exponent digits when the exponent is below -4 or at least 15 (6 for float4).
 */
export function formatFloat(v: number, size: 4 | 8): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  let exp: string;
  if (size === 4) {
    const f = Math.fround(v);
    let p = 1;
    while (p < 9 && Math.fround(Number(f.toPrecision(p))) !== f) p++;
    exp = Number(f.toPrecision(p)).toExponential();
  } else exp = v.toExponential();
  const [mantissa, e] = exp.split('e') as [string, string];
  const e10 = Number(e);
  if (e10 < -4 || e10 >= (size === 4 ? 6 : 15)) {
    const sign = e10 < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(e10)).padStart(2, '0')}`;
  }
  return String(Number(exp));
}

function isoSpace(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
}

/** INTERVAL in PostgreSQL's default (`postgres`) style: `1 year 2 mons 3 days 04:05:06.5`. */
export function formatInterval(v: unknown): string {
  if (typeof v !== 'object' || v === null || !('months' in v)) return String(v);
  const { months, days, micros } = v as { months: number; days: number; micros: string | number | bigint };
  const parts: string[] = [];
  const unit = (n: number, one: string, many: string) => n !== 0 && parts.push(`${n} ${n === 1 ? one : many}`);
  unit(Math.trunc(months / 12), 'year', 'years');
  unit(months % 12, 'mon', 'mons');
  unit(days, 'day', 'days');
  let us = BigInt(micros);
  if (us !== 0n || parts.length === 0) {
    const negative = us < 0n;
    if (negative) us = -us;
    const h = us / 3_600_000_000n;
    const m = (us / 60_000_000n) % 60n;
    const s = (us / 1_000_000n) % 60n;
    const frac = us % 1_000_000n;
    const pad = (n: bigint) => String(n).padStart(2, '0');
    const fraction = frac === 0n ? '' : `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
    parts.push(`${negative ? '-' : ''}${pad(h)}:${pad(m)}:${pad(s)}${fraction}`);
  }
  return parts.join(' ');
}

/** Bytes of a BLOB: a Uint8Array as is, or DuckDB's text form (printable ASCII, other bytes as \xAB). */
function toBytes(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const s = String(v);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(out);
}

/** MAP values arrive as [{key, value}] entries; as JSON they read best as an object. */
function mapToObject(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const e of v as unknown[]) {
    if (typeof e !== 'object' || e === null || !('key' in e)) return v;
    const entry = e as { key: unknown; value?: unknown };
    out[typeof entry.key === 'string' ? entry.key : toJsonText(entry.key)] = entry.value ?? null;
  }
  return out;
}

/** JSON text of a value; bigints are written as JSON numbers, bytes as \x hex strings, dates as ISO strings. */
export function toJsonText(v: unknown): string {
  const bigints: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') {
      bigints.push(x.toString());
      return `\u0000bigint${bigints.length - 1}\u0000`;
    }
    if (x instanceof Uint8Array) return `\\x${Buffer.from(x).toString('hex')}`;
    return x;
  });
  if (text === undefined) return 'null';
  return bigints.length === 0 ? text : text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => bigints[Number(i)]!);
}
