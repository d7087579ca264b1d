// `oxbow sql "<query>"`: runs one read query over the lake's catalog tables and prints the result.
import path from 'node:path';
import { crawl } from '../catalog/crawler.ts';
import { lakeTables } from '../catalog/lake-tables.ts';
import { openCatalog } from '../catalog/open.ts';
import { loadConfig } from '../config/index.ts';
import { LakeEngine, type QueryResult } from '../query/engine.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';

const USAGE = `Usage: oxbow sql "<query>" [--format table|csv|json] [--no-crawl] [--storage <url>] [--catalog <url>] [--config <file>]

Runs one read query (SELECT) over the lake's tables (one per dataset, named like it) and prints the result. The
catalog is crawled first so the newest files are included (--no-crawl skips that). Only read queries run; see
docs/sql.md for what is refused and why.
  --format <f>      table (default), csv or json (one object per row, with the column types first)
  --no-crawl        query the catalog as it is
  --storage <url>   root of the lake (default storage.url: ./data/lake)
  --catalog <url>   the catalog (default catalog.url: ./data/catalog.db)
  --config <file>   lake declaration (default ./oxbow.config.ts when present)`;

export async function sql(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { format: { type: 'string' }, 'no-crawl': { type: 'boolean' }, storage: { type: 'string' }, catalog: { type: 'string' }, config: { type: 'string' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usageError(positionals.length === 0 ? 'sql needs a query' : 'sql takes one query; quote it', USAGE);
  const format = (values.format as string | undefined) ?? 'table';
  if (!['table', 'csv', 'json'].includes(format)) throw usageError(`--format: ${JSON.stringify(format)} is not allowed; expected table, csv or json`, USAGE);
  const config = await loadConfig({
    file: values.config as string | undefined,
    overrides: { storage: { url: values.storage as string | undefined }, catalog: { url: values.catalog as string | undefined } },
  });
  const store = await openObjectStore(config.storage.url);
  const catalog = await openCatalog(config.catalog.url);
  try {
    if (values['no-crawl'] !== true) {
      const crawled = await crawl(catalog, store, config.catalog.namespace, lakeTables(config), (line) => process.stderr.write(`${line}\n`));
      for (const p of crawled.problems) process.stderr.write(`warning: ${p.table}: ${p.path}: ${p.why}\n`);
    }
    const q = config.query;
    const engine = await LakeEngine.create({
      catalog,
      store,
      namespace: config.catalog.namespace,
      threads: q.threads,
      memoryLimit: q.memoryLimit,
      timeoutMs: q.timeoutMs,
      maxRows: q.maxRows,
      cacheDir: path.resolve(q.cacheDir),
      cacheBytes: q.cacheBytes,
    });
    try {
      const result = await engine.query(positionals[0]!);
      process.stdout.write(render(result, format));
      return 0;
    } finally {
      engine.close();
    }
  } finally {
    await catalog.close();
    await store.close();
  }
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function render(result: QueryResult, format: string): string {
  const { columns, rows } = result;
  if (format === 'json') {
    return `${JSON.stringify({ columns, rows: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i] ?? null]))) })}\n`;
  }
  if (format === 'csv') {
    const cell = (v: unknown) => {
      const t = text(v);
      return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
    };
    return [columns.map((c) => cell(c.name)).join(','), ...rows.map((r) => r.map(cell).join(','))].map((l) => `${l}\n`).join('');
  }
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? 'NULL' : text(v))));
  const widths = columns.map((c, i) => Math.max(c.name.length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((c) => /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|DOUBLE|FLOAT|DECIMAL)/.test(c.type));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ').trimEnd();
  const out = [line(columns.map((c) => c.name)), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`];
  return `${out.join('\n')}\n`;
}
