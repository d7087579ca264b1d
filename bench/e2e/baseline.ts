// The baseline of the end-to-end benchmark: the events the lake should hold, as NDJSON, converted straight to one
// snappy Parquet file by DuckDB (one COPY, explicit threads and memory limit): what one machine does with no broker,
// no stream job, no sink and no catalog in between.
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { wallMs } from '../broker/stats.ts';
import { eventJson, fateOf, RAW_DUCKDB_COLUMNS } from './events.ts';

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Writes the good events among seq 0..events-1 to `file`, one JSON line each, as the producer made them; their send
 * times are spread evenly over [startMs, startMs + durationMs). Returns the number of lines and bytes.
 */
export function writeGoodEvents(file: string, events: number, badRatio: number, startMs: number, durationMs: number): { rows: number; bytes: number } {
  const fd = openSync(file, 'w');
  let rows = 0;
  let bytes = 0;
  try {
    for (let first = 0; first < events; first += 10_000) {
      const lines: string[] = [];
      for (let seq = first; seq < Math.min(events, first + 10_000); seq++) {
        if (fateOf(seq, badRatio) !== 'good') continue;
        lines.push(eventJson(seq, Math.floor(startMs + (seq * durationMs) / events), 'good'));
      }
      const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
      rows += lines.length;
      bytes += writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
  return { rows, bytes };
}

export type BaselineFigures = { rows: number; seconds: number; rowsPerSecond: number; parquetBytes: number };

/** COPY (SELECT * FROM read_json(ndjson, explicit columns)) TO parquet (snappy), timed. */
export async function duckdbBaseline(ndjsonFile: string, parquetFile: string, threads: number, memoryLimit: string): Promise<BaselineFigures> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit });
  try {
    const c = await instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    const columns = RAW_DUCKDB_COLUMNS.map(([name, type]) => `${quote(name)}: ${quote(type)}`).join(', ');
    const sql =
      `COPY (SELECT * FROM read_json(${quote(ndjsonFile)}, columns = {${columns}}, format = 'newline_delimited')) ` +
      `TO ${quote(parquetFile)} (FORMAT parquet, COMPRESSION snappy)`;
    const started = wallMs();
    const result = await c.runAndReadAll(sql);
    const seconds = (wallMs() - started) / 1000;
    const rows = Number(result.getRowObjectsJson()[0]?.Count ?? 0);
    c.closeSync();
    return { rows, seconds, rowsPerSecond: rows / seconds, parquetBytes: statSync(parquetFile).size };
  } finally {
    instance.closeSync();
  }
}
