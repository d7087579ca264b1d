// Parquet files from processed JSON lines, written by DuckDB: the lines go to a temporary NDJSON file, and one COPY
// reads them with explicit column types and writes the Parquet file. Integers go from JSON text straight to BIGINT,
// never through a JavaScript number, so values past 2^53 arrive intact.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { assert } from '../errors.ts';
import { SinkError, SinkErrorCode } from './errors.ts';
import { PARQUET_CODECS, type ParquetCodec } from './file-name.ts';
import { NdjsonLines } from './ndjson-lines.ts';
import { quoteString, type ParquetSchemaMapping } from './parquet-schema.ts';

export type ParquetWriterOptions = {
  /** DuckDB worker threads; 1 when left out. */
  threads?: number;
  /** DuckDB memory limit, e.g. '256MB'; bounds the writer however many partitions the sink has open. */
  memoryLimit?: string;
  /** Files written at the same time (one DuckDB connection each); 1 when left out. */
  concurrency?: number;
};

export type ParquetWriteOptions = {
  /** 'snappy' when left out. */
  compression?: ParquetCodec;
  /** Rows per row group; DuckDB's default (122880) when left out. */
  rowGroupRows?: number;
  /** Read the written file's column statistics back (columnStats); true when left out. */
  stats?: boolean;
};

/**
 * One record per entry: the JSON text of a processed value (string or UTF-8 bytes) or, less exactly, an object; or
 * records already laid out as NDJSON (what a sink holds).
 */
export type ParquetInput = readonly (string | Uint8Array | object)[] | NdjsonLines;

export type ColumnStats = { column: string; nullCount: number; min: string | null; max: string | null };

export type ParquetWriteResult = {
  rows: number;
  bytes: number;
  /** Per top-level column of a scalar type, from the file's own Parquet statistics; min and max as DuckDB text. Empty with `stats: false`. */
  columnStats: ColumnStats[];
};

const SCALAR_TYPES = new Set(['VARCHAR', 'BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'TIMESTAMPTZ', 'DATE']);
const LINES_PER_WRITE = 4096;
const MEMORY_LIMIT = /^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/;

/** A DuckDB instance that writes Parquet files one at a time; create once, write many, closeSync at the end. */
export class ParquetWriter {
  readonly #instance: DuckDBInstance;
  // DuckDB runs one statement per connection at a time; each connection has its queue of writes, in call order.
  readonly #lanes: { connection: DuckDBConnection; queue: Promise<unknown>; pending: number }[];
  #closed = false;

  private constructor(instance: DuckDBInstance, connections: DuckDBConnection[]) {
    this.#instance = instance;
    this.#lanes = connections.map((connection) => ({ connection, queue: Promise.resolve(), pending: 0 }));
  }

  static async create(options: ParquetWriterOptions = {}): Promise<ParquetWriter> {
    const threads = options.threads ?? 1;
    const memoryLimit = options.memoryLimit ?? '256MB';
    assert(Number.isSafeInteger(threads) && threads >= 1, `threads ${threads} must be a whole number, at least 1`);
    assert(MEMORY_LIMIT.test(memoryLimit), `memoryLimit ${memoryLimit} must look like '256MB'`);
    const concurrency = options.concurrency ?? 1;
    assert(Number.isSafeInteger(concurrency) && concurrency >= 1, `concurrency ${concurrency} must be a whole number, at least 1`);
    const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit });
    const connections: DuckDBConnection[] = [];
    for (let i = 0; i < concurrency; i++) {
      const connection = await instance.connect();
      // Timestamps without a zone are read as UTC, whatever the machine's zone.
      await connection.run("SET TimeZone = 'UTC'");
      connections.push(connection);
    }
    return new ParquetWriter(instance, connections);
  }

  /** Write `input` as a Parquet file at localPath (replacing any file there); the caller makes it visible. */
  write(input: ParquetInput, mapping: ParquetSchemaMapping, localPath: string, options: ParquetWriteOptions = {}): Promise<ParquetWriteResult> {
    assert(!this.#closed, 'write after closeSync');
    const lane = this.#lanes.reduce((a, b) => (b.pending < a.pending ? b : a));
    lane.pending++;
    const run = lane.queue.then(() => this.#write(lane.connection, input, mapping, localPath, options)).finally(() => lane.pending--);
    lane.queue = run.catch(() => undefined);
    return run;
  }

  async #write(connection: DuckDBConnection, input: ParquetInput, mapping: ParquetSchemaMapping, localPath: string, options: ParquetWriteOptions): Promise<ParquetWriteResult> {
    const compression = options.compression ?? 'snappy';
    assert(PARQUET_CODECS.includes(compression), `compression ${String(compression)} is not one of ${PARQUET_CODECS.join(', ')}`);
    assert(options.rowGroupRows === undefined || (Number.isSafeInteger(options.rowGroupRows) && options.rowGroupRows >= 1), 'rowGroupRows must be a whole number, at least 1');
    assert(input.length > 0, 'a Parquet file needs at least one record');
    const ndjsonPath = `${localPath}.${randomBytes(6).toString('hex')}.ndjson`;
    try {
      const maxLineBytes = await writeLines(input, ndjsonPath);
      const columns = mapping.readColumns.map((c) => `${quoteString(c.field)}: ${quoteString(c.duckType)}`).join(', ');
      const copyOptions = [`FORMAT parquet`, `COMPRESSION ${compression}`, ...(options.rowGroupRows === undefined ? [] : [`ROW_GROUP_SIZE ${options.rowGroupRows}`])];
      const sql =
        `COPY (SELECT ${mapping.selectList.join(', ')} FROM read_json(${quoteString(ndjsonPath)}, columns = {${columns}}, ` +
        `format = 'newline_delimited', maximum_object_size = ${Math.max(maxLineBytes + 1, 16 * 1024 * 1024)})) ` +
        `TO ${quoteString(localPath)} (${copyOptions.join(', ')})`;
      let rows: number;
      try {
        const result = await connection.runAndReadAll(sql);
        rows = Number(result.getRowObjectsJson()[0]?.Count ?? 0);
      } catch (e) {
        const message = (e as Error).message;
        // Disk and memory trouble may pass; a value that does not fit its column fails the same way every time.
        const retryable = /^(IO Error|Out of Memory Error)/.test(message);
        throw new SinkError(SinkErrorCode.PARQUET_WRITE_FAILED, `writing ${localPath} failed: ${message}`, { cause: e, retryable, fields: { localPath } });
      }
      assert(rows === input.length, `wrote ${rows} rows for ${input.length} records`);
      const bytes = (await stat(localPath)).size;
      return { rows, bytes, columnStats: options.stats === false ? [] : await columnStats(connection, localPath, mapping) };
    } finally {
      await rm(ndjsonPath, { force: true });
    }
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of this.#lanes) lane.connection.closeSync();
    this.#instance.closeSync();
  }
}

async function columnStats(connection: DuckDBConnection, localPath: string, mapping: ParquetSchemaMapping): Promise<ColumnStats[]> {
  const scalar = mapping.columns.filter((c) => SCALAR_TYPES.has(c.duckType));
  if (scalar.length === 0) return [];
  // Statistics are per row group and stored as text; cast back to the column type so min and max compare as values.
  const file = quoteString(localPath);
  const sql = scalar
    .map((c, i) =>
      `SELECT ${i} AS i, sum(stats_null_count)::BIGINT AS nulls, min(TRY_CAST(stats_min_value AS ${c.duckType}))::VARCHAR AS lo, ` +
      `max(TRY_CAST(stats_max_value AS ${c.duckType}))::VARCHAR AS hi FROM parquet_metadata(${file}) WHERE path_in_schema = ${quoteString(c.name)}`)
    .join(' UNION ALL ');
  const rows = (await connection.runAndReadAll(`${sql} ORDER BY i`)).getRowObjectsJson();
  return rows.map((r) => ({
    column: scalar[Number(r.i)]!.name,
    nullCount: Number(r.nulls ?? 0),
    min: typeof r.lo === 'string' ? r.lo : null,
    max: typeof r.hi === 'string' ? r.hi : null,
  }));
}

const encoder = new TextEncoder();

// A record is one line; a raw newline can only be whitespace between JSON tokens (strings escape theirs), so it becomes a space.
function toLine(entry: string | object): string {
  const text = typeof entry === 'string' ? entry : JSON.stringify(entry);
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
}

const NEWLINE = Buffer.from('\n');
const SPACE = 0x20;

/** Writes the records as NDJSON; returns the longest line in bytes. */
async function writeLines(input: ParquetInput, path: string): Promise<number> {
  const fh = await open(path, 'wx');
  let maxLineBytes = 0;
  try {
    if (input instanceof NdjsonLines) {
      const parts = input.parts();
      for (let i = 0; i < parts.length; i += 64) await fh.writev(parts.slice(i, i + 64));
      return input.maxLineBytes;
    }
    for (let start = 0; start < input.length; start += LINES_PER_WRITE) {
      const parts: Uint8Array[] = [];
      for (const entry of input.slice(start, start + LINES_PER_WRITE)) {
        let bytes: Uint8Array;
        if (entry instanceof Uint8Array) {
          // Bytes go as they are once checked: UTF-8, and a raw newline (only whitespace between JSON tokens) as a space.
          if (!isUtf8(entry)) throw new SinkError(SinkErrorCode.PARQUET_WRITE_FAILED, `record ${start + parts.length / 2} is not valid UTF-8`, { fields: { record: start + parts.length / 2 } });
          bytes = entry.includes(0x0a) || entry.includes(0x0d) ? entry.map((b) => (b === 0x0a || b === 0x0d ? SPACE : b)) : entry;
        } else {
          bytes = encoder.encode(toLine(entry));
        }
        maxLineBytes = Math.max(maxLineBytes, bytes.length);
        parts.push(bytes, NEWLINE);
      }
      await fh.write(Buffer.concat(parts));
    }
  } finally {
    await fh.close();
  }
  return maxLineBytes;
}

/** One-off write with its own DuckDB instance; a sink keeps one ParquetWriter instead. */
export async function writeParquet(
  input: ParquetInput,
  mapping: ParquetSchemaMapping,
  localPath: string,
  options: ParquetWriteOptions & ParquetWriterOptions = {},
): Promise<ParquetWriteResult> {
  const writer = await ParquetWriter.create({ ...(options.threads === undefined ? {} : { threads: options.threads }), ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }) });
  try {
    return await writer.write(input, mapping, localPath, options);
  } finally {
    writer.closeSync();
  }
}

