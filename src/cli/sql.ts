// `oxbow sql "<query>"`: runs one read query over the lake's catalog tables and prints the result.
import { crawl, lakeTables, openCatalog } from '../catalog/index.ts';
import { loadConfig } from '../config/index.ts';
import { engineFromConfig, QueryError, QueryErrorCode, type QueryResult } from '../query/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';

const USAGE = `Usage: oxbow sql "<query>" [--format table|csv|json] [--url <http://host:port>] [--local [--no-crawl] [--storage <url>] [--catalog <url>]] [--config <file>]

Runs one read query (SELECT) over the lake's tables (one per dataset, named like it) and prints the result. It asks
the running lake (oxbow up's HTTP endpoint: --url, else http://127.0.0.1:<server.httpPort> when one answers there);
with no lake running, or with --local, it reads the catalog and the files itself, crawling the catalog first so the
newest files are included (--no-crawl skips that). Only read queries run; see docs/sql.md for what is refused and why.
  --format <f>      table (default), csv or json (one object per row, with the column types first)
  --url <url>       the HTTP SQL endpoint of a running lake, e.g. http://127.0.0.1:8686
  --local           do not ask a running lake; read the catalog and files in this process
  --no-crawl        with --local (or no lake running): query the catalog as it is
  --storage <url>   root of the lake (default storage.url: ./data/lake)
  --catalog <url>   the catalog (default catalog.url: ./data/catalog.db)
  --config <file>   lake declaration (default ./oxbow.config.ts when present)`;

export async function sql(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      format: { type: 'string' },
      url: { type: 'string' },
      local: { type: 'boolean' },
      'no-crawl': { type: 'boolean' },
      storage: { type: 'string' },
      catalog: { type: 'string' },
      config: { type: 'string' },
    },
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
  if (values.url !== undefined && values.local === true) throw usageError('--url and --local exclude each other', USAGE);
  const url = typeof values.url === 'string' ? endpoint(values.url) : values.local === true ? null : await runningLake(config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host, config.server.httpPort);
  if (url !== null) {
    process.stdout.write(render(await remote(url, positionals[0]!, typeof values.url === 'string'), format));
    return 0;
  }
  const store = await openObjectStore(config.storage.url);
  const catalog = await openCatalog(config.catalog.url);
  try {
    if (values['no-crawl'] !== true) {
      const crawled = await crawl(catalog, store, config.catalog.namespace, lakeTables(config), (line) => process.stderr.write(`${line}\n`));
      for (const p of crawled.problems) process.stderr.write(`warning: ${p.table}: ${p.path}: ${p.why}\n`);
    }
    const engine = await engineFromConfig(config, catalog, store);
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

/** The /v1/sql URL of `--url`, which may be given with or without the path. */
function endpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url: ${JSON.stringify(raw)} is not a URL; expected e.g. http://127.0.0.1:8686`, USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url: ${JSON.stringify(raw)} is not an http(s) URL`, USAGE);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/sql';
  return url.toString();
}

/** The SQL endpoint of a lake running here with the configured port, if one answers its health check at once. */
async function runningLake(host: string, port: number): Promise<string | null> {
  if (port === 0) return null;
  try {
    const res = await fetch(`http://${host}:${port}/v1/health`, { signal: AbortSignal.timeout(500) });
    return res.ok ? `http://${host}:${port}/v1/sql` : null;
  } catch {
    return null;
  }
}

/** Runs the query on a running lake; its errors come back with their code, as if run here. */
async function remote(url: string, query: string, explicit: boolean): Promise<QueryResult> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: query }) });
  } catch (err) {
    throw new QueryError(QueryErrorCode.FAILED, `cannot reach ${url}${explicit ? '' : ' (the running lake)'}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { columns?: QueryResult['columns']; rows?: unknown[][]; error?: { code?: string; message?: string; sqlState?: string } };
  if (body.error !== undefined || body.columns === undefined || body.rows === undefined) {
    const code = Object.values(QueryErrorCode).find((c) => c === body.error?.code) ?? QueryErrorCode.FAILED;
    throw new QueryError(code, body.error?.message ?? `${url} answered HTTP ${res.status} without a result`);
  }
  return { columns: body.columns, rows: body.rows, tables: [], elapsedMs: 0, phasesMs: { check: 0, catalog: 0, views: 0, run: 0 } };
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
