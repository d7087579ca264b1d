// The queries of the query benchmark and the two ways of running them: through Oxbow's engine (catalog, pruning,
// dedupe view) and through DuckDB directly over a glob of the table's files, each timed and compared.
import { DuckDBInstance } from '@duckdb/node-api';
import type { LakeEngine } from '../../src/query/engine.ts';
import { wallMs } from '../broker/stats.ts';

export type QueryName = 'count' | 'group-by' | 'one-hour';

export type BenchQuery = {
  name: QueryName;
  /** The statement with `from` as its table: `orders` for Oxbow, `read_parquet('…/**\/*.parquet')` for the glob. */
  sql: (from: string) => string;
  /** Oxbow must be at least this many times faster than the glob (ratio = glob time / Oxbow time). */
  targetRatio: number;
  /** Rows the result's first column (a count) must add up to, when known. */
  expectedCount: number | null;
};

export function benchQueries(o: { rows: number; hourFrom: string; hourTo: string; hourRows: number }): BenchQuery[] {
  return [
    { name: 'count', sql: (from) => `SELECT count(*) FROM ${from}`, targetRatio: 1, expectedCount: o.rows },
    { name: 'group-by', sql: (from) => `SELECT country, count(*), sum(amount) FROM ${from} GROUP BY 1`, targetRatio: 1, expectedCount: o.rows },
    {
      name: 'one-hour',
      sql: (from) => `SELECT count(*), sum(amount) FROM ${from} WHERE ts >= '${o.hourFrom}' AND ts < '${o.hourTo}'`,
      targetRatio: 10,
      expectedCount: o.hourRows,
    },
  ];
}

export type Timed = { ms: number; rows: unknown[][] };

/** DuckDB over files it is given directly, with the engine's threads and memory limit and a UTC session. */
export class DirectDuckDb {
  readonly #instance: DuckDBInstance;

  private constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  static async create(threads: number, memoryLimit: string): Promise<DirectDuckDb> {
    const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit });
    // GLOBAL: a plain SET lasts only as long as the connection that ran it.
    const setup = await instance.connect();
    try {
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
    } finally {
      setup.closeSync();
    }
    return new DirectDuckDb(instance);
  }

  /** Runs `sql` on a fresh connection (as the engine does per query), rows as DuckDB's JSON conversion gives them. */
  async query(sql: string): Promise<Timed> {
    const started = wallMs();
    const connection = await this.#instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql);
      const rows = reader.getRowsJson() as unknown[][];
      return { ms: wallMs() - started, rows };
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.#instance.closeSync();
  }
}

export type OxbowTimed = Timed & { filesTotal: number; filesRead: number; engineMs: number };

export async function oxbowQuery(engine: LakeEngine, sql: string): Promise<OxbowTimed> {
  const started = wallMs();
  const result = await engine.query(sql);
  const ms = wallMs() - started;
  if (process.env.OXBOW_BENCH_PHASES !== undefined) {
    const p = result.phasesMs;
    process.stderr.write(`  phases: check ${p.check.toFixed(1)} ms, catalog ${p.catalog.toFixed(1)} ms, views ${p.views.toFixed(1)} ms, run ${p.run.toFixed(1)} ms\n`);
  }
  const table = result.tables[0];
  return { ms, rows: result.rows, filesTotal: table?.filesTotal ?? 0, filesRead: table?.filesRead ?? 0, engineMs: result.elapsedMs };
}

/** Rows in a stable order (a GROUP BY has none), so two results compare row by row. */
function sorted(rows: readonly unknown[][]): unknown[][] {
  return [...rows].sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : JSON.stringify(a[0]) > JSON.stringify(b[0]) ? 1 : 0));
}

/**
 * Whether two results hold the same values: integers and text exactly, doubles (sums, added in another order on each
 * side) to a relative 1e-9. Returns null when they match, else what differs first.
 */
export function difference(a: readonly unknown[][], b: readonly unknown[][]): string | null {
  if (a.length !== b.length) return `${a.length} rows against ${b.length}`;
  const x = sorted(a);
  const y = sorted(b);
  for (let i = 0; i < x.length; i++) {
    const r = x[i]!;
    const s = y[i]!;
    if (r.length !== s.length) return `row ${i}: ${r.length} columns against ${s.length}`;
    for (let j = 0; j < r.length; j++) {
      const u = r[j];
      const v = s[j];
      if (typeof u === 'number' && typeof v === 'number') {
        if (Math.abs(u - v) > 1e-9 * Math.max(1, Math.abs(u), Math.abs(v))) return `row ${i} column ${j}: ${u} against ${v}`;
      } else if (JSON.stringify(u) !== JSON.stringify(v)) return `row ${i} column ${j}: ${JSON.stringify(u)} against ${JSON.stringify(v)}`;
    }
  }
  return null;
}

/** The sum of the count column (the first numeric-as-text or number column after any key) of a result. */
export function countOf(query: BenchQuery, rows: readonly unknown[][]): number {
  const column = query.name === 'group-by' ? 1 : 0;
  return rows.reduce((n, r) => n + Number(r[column]), 0);
}
