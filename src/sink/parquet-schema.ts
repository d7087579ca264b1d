// A dataset's processed JSON Schema mapped to DuckDB column types, which DuckDB writes as Parquet types.
// Explicit types everywhere: DuckDB reads the JSON lines with these columns and infers nothing.
import { SinkError, SinkErrorCode } from './errors.ts';

type JsonSchema = Record<string, unknown>;

/** The lineage field of every processed record (docs/stream.md, Lineage), flattened into three columns. */
export const LINEAGE_FIELD = '_source';
export const LINEAGE_COLUMNS = [
  { name: '_source_topic', key: 'topic', duckType: 'VARCHAR' },
  { name: '_source_partition', key: 'partition', duckType: 'INTEGER' },
  { name: '_source_offset', key: 'offset', duckType: 'BIGINT' },
] as const;

export type ParquetColumn = {
  name: string;
  /** The DuckDB type written, e.g. `BIGINT`, `TIMESTAMPTZ`, `STRUCT("a" VARCHAR)[]`. */
  duckType: string;
  nullable: boolean;
  /** `value`: a property as declared; `event-time`: the event-time field as a timestamp; `lineage`: from `_source`. */
  role: 'value' | 'event-time' | 'lineage';
};

export type ParquetSchemaMapping = {
  columns: ParquetColumn[];
  /** The `columns={...}` argument of read_json: top-level JSON field → DuckDB type read. */
  readColumns: { field: string; duckType: string }[];
  /** SELECT list over read_json producing `columns` in order. */
  selectList: string[];
};

export type MapSchemaOptions = { eventTimeField?: string | null };

type Mapped = { duckType: string; nullable: boolean };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function refuse(path: string, why: string): SinkError {
  return new SinkError(SinkErrorCode.UNMAPPABLE_SCHEMA, `schema at ${path} cannot be a Parquet column: ${why}`, { fields: { path } });
}

const childPath = (path: string, key: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function primitiveFromValues(values: unknown[], path: string): string {
  if (values.every((v) => typeof v === 'string')) return 'string';
  if (values.every((v) => typeof v === 'number' && Number.isInteger(v))) return 'integer';
  if (values.every((v) => typeof v === 'number')) return 'number';
  if (values.every((v) => typeof v === 'boolean')) return 'boolean';
  throw refuse(path, `enum/const values ${JSON.stringify(values)} have no common type`);
}

function mapBranches(branches: unknown, keyword: string, path: string): Mapped {
  if (!Array.isArray(branches) || branches.length === 0) throw refuse(path, `${keyword} must be a non-empty list of schemas`);
  let nullable = false;
  const types = new Set<string>();
  branches.forEach((b, i) => {
    if (isObject(b) && b.type === 'null') {
      nullable = true;
      return;
    }
    const m = mapNode(b, `${path}.${keyword}[${i}]`);
    nullable ||= m.nullable;
    types.add(m.duckType);
  });
  if (types.size !== 1) {
    throw refuse(path, types.size === 0 ? `${keyword} allows only null` : `${keyword} branches have types ${[...types].join(' and ')}; a column has one type`);
  }
  return { duckType: [...types][0]!, nullable };
}

function mapStruct(node: JsonSchema, path: string): string {
  const props = node.properties as Record<string, unknown>;
  const seen = new Map<string, string>();
  const fields: string[] = [];
  for (const [key, child] of Object.entries(props)) {
    if (key === '') throw refuse(path, 'a property has an empty name');
    // DuckDB names are case-insensitive, so "id" and "ID" would be one column.
    const folded = key.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) throw refuse(path, `properties "${other}" and "${key}" differ only in case; Parquet readers treat them as one column`);
    seen.set(folded, key);
    const m = mapNode(child, childPath(path, key));
    fields.push(`${quoteIdentifier(key)} ${m.duckType}`);
  }
  return `STRUCT(${fields.join(', ')})`;
}

function mapNode(node: unknown, path: string): Mapped {
  if (node === true || (isObject(node) && Object.keys(node).every((k) => k === 'description' || k === 'title' || k === '$comment'))) {
    return { duckType: 'JSON', nullable: true };
  }
  if (!isObject(node)) throw refuse(path, `${JSON.stringify(node)} is not a schema that admits values`);
  if (node.$ref !== undefined) throw refuse(path, '$ref is not supported; write the referenced schema in place');
  if (node.allOf !== undefined) throw refuse(path, 'allOf is not supported; merge the schemas into one');
  if (node.anyOf !== undefined) return mapBranches(node.anyOf, 'anyOf', path);
  if (node.oneOf !== undefined) return mapBranches(node.oneOf, 'oneOf', path);

  let declared: unknown[];
  if (node.type !== undefined) declared = Array.isArray(node.type) ? node.type : [node.type];
  else if (node.const !== undefined) declared = [primitiveFromValues([node.const], path)];
  else if (Array.isArray(node.enum)) declared = [primitiveFromValues(node.enum.filter((v) => v !== null), path), ...(node.enum.includes(null) ? ['null'] : [])];
  else if (isObject(node.properties)) declared = ['object'];
  else if (node.items !== undefined) declared = ['array'];
  else return { duckType: 'JSON', nullable: true };

  const nullable = declared.includes('null');
  let types = declared.filter((t) => t !== 'null');
  // An integer-or-number field is a double; integers past 2^53 lose precision, as in any double.
  if (types.length === 2 && types.includes('integer') && types.includes('number')) types = ['number'];
  if (types.length === 0) throw refuse(path, 'type allows only null');
  if (types.length > 1) throw refuse(path, `type ${JSON.stringify(node.type)} mixes ${types.join(' and ')}; a column has one type`);
  switch (types[0]) {
    case 'string':
      return { duckType: node.format === 'date-time' ? 'TIMESTAMPTZ' : node.format === 'date' ? 'DATE' : 'VARCHAR', nullable };
    case 'integer':
      return { duckType: 'BIGINT', nullable };
    case 'number':
      return { duckType: 'DOUBLE', nullable };
    case 'boolean':
      return { duckType: 'BOOLEAN', nullable };
    case 'object':
      // An object without declared properties is free-form: kept whole as JSON text.
      return { duckType: isObject(node.properties) && Object.keys(node.properties).length > 0 ? mapStruct(node, path) : 'JSON', nullable };
    case 'array': {
      if (node.items === undefined || node.items === true) return { duckType: 'JSON', nullable };
      if (node.prefixItems !== undefined) throw refuse(path, 'prefixItems (tuples) are not supported; use items');
      return { duckType: `${mapNode(node.items, `${path}[]`).duckType}[]`, nullable };
    }
    default:
      throw refuse(path, `type ${JSON.stringify(types[0])} is not a JSON Schema type`);
  }
}

// Epoch milliseconds (a JSON number) or an RFC 3339 string, read as text, to a timestamp.
function eventTimeExpression(field: string): string {
  const f = quoteIdentifier(field);
  return `CASE WHEN regexp_full_match(${f}, '-?[0-9]+') THEN make_timestamptz(${f}::BIGINT * 1000) ` +
    `WHEN regexp_full_match(${f}, '-?[0-9.]+([eE][-+]?[0-9]+)?') THEN make_timestamptz(CAST(floor(${f}::DOUBLE) AS BIGINT) * 1000) ` +
    `ELSE ${f}::TIMESTAMPTZ END AS ${f}`;
}

/**
 * Map a processed-record JSON Schema (an object schema, usually processedSchema(dataset)) to Parquet columns.
 * Throws SinkError OXBOW_SINK_UNMAPPABLE_SCHEMA naming the path of the first part that has no column type.
 */
export function mapJsonSchema(schema: JsonSchema, options: MapSchemaOptions = {}): ParquetSchemaMapping {
  if (!isObject(schema) || (schema.type !== undefined && schema.type !== 'object') || !isObject(schema.properties)) {
    throw refuse('$', 'a record schema must be type "object" with properties');
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const eventTimeField = options.eventTimeField ?? null;
  if (eventTimeField !== null && !Object.hasOwn(schema.properties, eventTimeField)) {
    throw refuse(childPath('$', eventTimeField), `the event-time field "${eventTimeField}" is not a property of the schema`);
  }
  const columns: ParquetColumn[] = [];
  const readColumns: { field: string; duckType: string }[] = [];
  const selectList: string[] = [];
  const seen = new Map<string, string>(LINEAGE_COLUMNS.map((c) => [c.name, `lineage column ${c.name}`]));
  for (const [key, child] of Object.entries(schema.properties)) {
    if (key === LINEAGE_FIELD) continue;
    const path = childPath('$', key);
    if (key === '') throw refuse(path, 'a property has an empty name');
    const other = seen.get(key.toLowerCase());
    if (other !== undefined) throw refuse(path, `"${key}" collides with ${other.startsWith('lineage') ? other : `property "${other}"`} (column names are case-insensitive)`);
    seen.set(key.toLowerCase(), key);
    if (key === eventTimeField) {
      const types = isObject(child) ? (Array.isArray(child.type) ? child.type : [child.type]) : [];
      const bad = types.filter((t) => t !== 'string' && t !== 'integer' && t !== 'number' && t !== 'null');
      if (bad.length > 0 || !isObject(child)) throw refuse(path, `the event-time field has type ${JSON.stringify(isObject(child) ? child.type : child)}; expected string (date-time) or integer (epoch ms)`);
      const nullable = !required.has(key) || types.includes('null');
      columns.push({ name: key, duckType: 'TIMESTAMPTZ', nullable, role: 'event-time' });
      readColumns.push({ field: key, duckType: 'VARCHAR' });
      selectList.push(eventTimeExpression(key));
      continue;
    }
    const m = mapNode(child, path);
    columns.push({ name: key, duckType: m.duckType, nullable: m.nullable || !required.has(key), role: 'value' });
    readColumns.push({ field: key, duckType: m.duckType });
    selectList.push(quoteIdentifier(key));
  }
  readColumns.push({ field: LINEAGE_FIELD, duckType: `STRUCT(${LINEAGE_COLUMNS.map((c) => `${quoteIdentifier(c.key)} ${c.duckType}`).join(', ')})` });
  for (const c of LINEAGE_COLUMNS) {
    columns.push({ name: c.name, duckType: c.duckType, nullable: false, role: 'lineage' });
    selectList.push(`${quoteIdentifier(LINEAGE_FIELD)}.${quoteIdentifier(c.key)} AS ${quoteIdentifier(c.name)}`);
  }
  return { columns, readColumns, selectList };
}
