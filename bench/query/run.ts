// Query benchmark: SQL over a large lake through Oxbow (catalog, pruning, the engine's dedupe view) beside DuckDB
// reading the same files by glob, in the same process with the same threads and memory; and the crawler's speed on
// the whole lake and on many new files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { crawl, type CrawlResult } from '../../src/catalog/crawler.ts';
import { openCatalog, type CatalogStore, type FileFilter } from '../../src/catalog/index.ts';
import { filesNeedingDedupe, LakeEngine, viewSql } from '../../src/query/engine.ts';
import { openObjectStore } from '../../src/storage/index.ts';
import { fmt, MB, median, wallMs, wholeNumber } from '../broker/stats.ts';
import { scratchDir } from '../scratch.ts';
import { summarizeProfile, type ProfileSummary } from '../sink/profile.ts';
import { crawlTable, DATASET, FilePlanner, FIRST_HOUR_MS, LOCATION, removeFiles, timestampLiteral, writeFiles, type PlannedFile, type WriteFigures } from './lake.ts';
import { benchQueries, countOf, difference, DirectDuckDb, oxbowQuery, type BenchQuery, type QueryName } from './queries.ts';

const NAMESPACE = 'bench';
const HOUR_MS = 3_600_000;
/** New files of the incremental crawl: this many per new hourly partition, this many rows each. */
const NEW_FILES_PER_PARTITION = 10;
const NEW_FILE_ROWS = 10;
const TARGET_CRAWL_NEW_SECONDS = 10;
const TARGET_CRAWL_NEW_FILES = 10_000;

const USAGE = `Usage: npm run bench:query -- [options]

Builds a lake in a temporary directory: about --rows order rows in --partitions hourly partitions, laid out as the
sink lays them out (golden/orders.processed/YYYY/MM/DD/HH/orders.processed+<p>+<first>+<last>.snappy.parquet, Kafka
partitions 0-3 in turn, offsets in the names and in the lineage), with the columns the sink writes for
{ id integer, ts date-time (event time), country string, amount number, user_id integer } plus the lineage columns.
DuckDB writes each file with one COPY from range(); rows are spread evenly, so --rows is rounded to a multiple of
--partitions x --files-per-partition. Here (2 cores) 10 M rows in 2,000 files are written in about 15 s and the whole
run with the defaults takes about 4-5 minutes, most of it Oxbow's count and group-by; --rows 1000000 takes about 1.

Then:
  crawl       a fresh SQLite catalog (<dir>/catalog.db) crawls the whole lake: seconds and files/s
  crawl new   --crawl-new new files (${NEW_FILE_ROWS} rows each, ${NEW_FILES_PER_PARTITION} per new hourly partition after the last) are
              written, then crawled (timed); target: ${fmt(TARGET_CRAWL_NEW_FILES)} new files in under ${TARGET_CRAWL_NEW_SECONDS} s. They are then
              deleted and crawled away again (timed too), so the queries run on the lake described above.
  queries     each best of --runs, Oxbow (LakeEngine.query on the catalog) and DuckDB by glob
              (read_parquet('<lake>/golden/orders.processed/**/*.parquet')) in alternation, same process, same
              threads and memory limit; both results must hold the same values:
                count     SELECT count(*) FROM orders
                group-by  SELECT country, count(*), sum(amount) FROM orders GROUP BY 1
                one-hour  SELECT count(*), sum(amount) FROM orders WHERE ts >= '<h>' AND ts < '<h + 1 h>'  (middle hour)
              targets: one-hour ≥10x faster through Oxbow; count and group-by no slower (glob/Oxbow ≥ 1.0)
  breakdown   where Oxbow's time goes, also best of --runs: the catalog calls a query makes, DuckDB over the file
              list the catalog gives (no dedupe), and DuckDB over the engine's own view SQL (with the dedupe window)

  --rows <n>                  order rows, about (default 10000000)
  --partitions <n>            hourly partitions (default 2000)
  --files-per-partition <n>   data files per partition (default 1)
  --crawl-new <n>             new files for the incremental crawl; 0 skips it (default ${TARGET_CRAWL_NEW_FILES})
  --runs <n>                  runs of each query on each side; the best counts (default 3)
  --threads <n>               DuckDB threads of the engine and of the glob side (default 2)
  --memory-limit <size>       DuckDB memory limit of each, e.g. 1GB (default 1GB, the engine's default)
  --timeout-ms <n>            the engine's query timeout (default 600000)
  --no-breakdown              skip the breakdown
  --dir <path>                parent of the temporary directory (default the OS temp dir); it is removed at the end
  --cpu-prof <dir>            profile the main thread during the query phase (node:inspector), write
                              query.cpuprofile to <dir> and print the functions with the most self time
  --json <file>               also write every figure as JSON
  -h, --help                  this text`;

type Options = {
  rows: number;
  partitions: number;
  filesPerPartition: number;
  crawlNew: number;
  runs: number;
  threads: number;
  memoryLimit: string;
  timeoutMs: number;
  breakdown: boolean;
  dir: string;
  cpuProfDir: string | null;
  jsonFile: string | null;
};

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      rows: { type: 'string' },
      partitions: { type: 'string' },
      'files-per-partition': { type: 'string' },
      'crawl-new': { type: 'string' },
      runs: { type: 'string' },
      threads: { type: 'string' },
      'memory-limit': { type: 'string' },
      'timeout-ms': { type: 'string' },
      breakdown: { type: 'boolean', default: true },
      dir: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const memoryLimit = values['memory-limit'] ?? '1GB';
  if (!/^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/.test(memoryLimit)) throw new Error(`--memory-limit must look like 1GB or 512MB, got ${JSON.stringify(memoryLimit)}`);
  return {
    rows: wholeNumber('rows', values.rows, 10_000_000),
    partitions: wholeNumber('partitions', values.partitions, 2000),
    filesPerPartition: wholeNumber('files-per-partition', values['files-per-partition'], 1),
    crawlNew: wholeNumber('crawl-new', values['crawl-new'], TARGET_CRAWL_NEW_FILES, 0),
    runs: wholeNumber('runs', values.runs, 3),
    threads: wholeNumber('threads', values.threads, 2),
    memoryLimit,
    timeoutMs: wholeNumber('timeout-ms', values['timeout-ms'], 600_000),
    breakdown: values.breakdown,
    dir: values.dir ?? os.tmpdir(),
    cpuProfDir: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
    jsonFile: values.json ?? null,
  };
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

const seconds = (startedMs: number) => (wallMs() - startedMs) / 1000;
const best = (values: readonly number[]) => (values.length === 0 ? Number.NaN : Math.min(...values));

// ---------------------------------------------------------------------------------------------------------------------
// Building and crawling

type CrawlFigures = { files: number; added: number; removed: number; problems: number; seconds: number; filesPerSecond: number };

async function timedCrawl(catalog: CatalogStore, lakeDir: string, label: string, changed: (r: CrawlResult) => number): Promise<CrawlFigures> {
  const store = await openObjectStore(lakeDir);
  const started = wallMs();
  const result = await crawl(catalog, store, NAMESPACE, [crawlTable()], (line) => say(`  ${line}`));
  const s = seconds(started);
  const t = result.tables[0]!;
  const figures = { files: t.files, added: t.added, removed: t.removed, problems: result.problems.length, seconds: s, filesPerSecond: changed(result) / s };
  say(`  ${label}: ${fmt(s, 2)} s, ${fmt(figures.filesPerSecond)} files/s (${fmt(t.added)} added, ${fmt(t.removed)} removed, ${fmt(t.files)} registered, ${figures.problems} problems)`);
  return figures;
}

function write(lakeDir: string, files: PlannedFile[], o: Options, what: string): Promise<WriteFigures> {
  say(`writing ${what}: ${fmt(files.length)} files, ${fmt(files.reduce((n, f) => n + f.rows, 0))} rows ...`);
  return writeFiles(lakeDir, files, { threads: o.threads, memoryLimit: o.memoryLimit, lanes: 2, progress: (done) => say(`  ${fmt(done)} of ${fmt(files.length)} files`) });
}

// ---------------------------------------------------------------------------------------------------------------------
// Queries

type Side = { runsMs: number[]; bestMs: number; error: string | null; rows: unknown[][] };
type QueryFigures = {
  name: QueryName;
  sql: { oxbow: string; glob: string };
  oxbow: Side & { filesTotal: number; filesRead: number; engineMedianMs: number };
  glob: Side;
  /** glob best / Oxbow best: how many times faster Oxbow is. */
  ratio: number;
  targetRatio: number;
  sameValues: boolean;
  difference: string | null;
  /** Rows Oxbow's result counts, and how many the lake holds for the query. */
  count: number;
  expectedCount: number | null;
  countOk: boolean;
  pass: boolean;
};

function message(err: unknown): string {
  return err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message.split('\n')[0]}` : String(err);
}

async function runQueries(o: Options, engine: LakeEngine, direct: DirectDuckDb, queries: BenchQuery[], glob: string): Promise<QueryFigures[]> {
  const figures: QueryFigures[] = queries.map((q) => ({
    name: q.name,
    sql: { oxbow: q.sql(DATASET), glob: q.sql(glob) },
    oxbow: { runsMs: [], bestMs: Number.NaN, error: null, rows: [], filesTotal: 0, filesRead: 0, engineMedianMs: Number.NaN },
    glob: { runsMs: [], bestMs: Number.NaN, error: null, rows: [] },
    ratio: Number.NaN,
    targetRatio: q.targetRatio,
    sameValues: false,
    difference: null,
    count: Number.NaN,
    expectedCount: q.expectedCount,
    countOk: false,
    pass: false,
  }));
  const engineMs = new Map<QueryName, number[]>();
  for (let run = 1; run <= o.runs; run++) {
    for (const f of figures) {
      // Alternate which side goes first, so neither always finds the other's pages in the cache.
      const order = run % 2 === 1 ? (['oxbow', 'glob'] as const) : (['glob', 'oxbow'] as const);
      for (const side of order) {
        if (f[side].error !== null) continue;
        try {
          if (side === 'oxbow') {
            const r = await oxbowQuery(engine, f.sql.oxbow);
            f.oxbow.runsMs.push(r.ms);
            f.oxbow.rows = r.rows;
            f.oxbow.filesTotal = r.filesTotal;
            f.oxbow.filesRead = r.filesRead;
            engineMs.set(f.name, [...(engineMs.get(f.name) ?? []), r.engineMs]);
          } else {
            const r = await direct.query(f.sql.glob);
            f.glob.runsMs.push(r.ms);
            f.glob.rows = r.rows;
          }
        } catch (err) {
          f[side].error = message(err);
        }
      }
      say(`  [run ${run}] ${f.name.padEnd(8)} oxbow ${f.oxbow.error ?? `${fmt(f.oxbow.runsMs.at(-1) ?? Number.NaN, 1)} ms`}, glob ${f.glob.error ?? `${fmt(f.glob.runsMs.at(-1) ?? Number.NaN, 1)} ms`}`);
    }
  }
  for (const [i, f] of figures.entries()) {
    const q = queries[i]!;
    f.oxbow.bestMs = best(f.oxbow.runsMs);
    f.glob.bestMs = best(f.glob.runsMs);
    f.oxbow.engineMedianMs = median(engineMs.get(f.name) ?? []);
    f.ratio = f.glob.bestMs / f.oxbow.bestMs;
    const bothRan = f.oxbow.error === null && f.glob.error === null;
    f.difference = bothRan ? difference(f.oxbow.rows, f.glob.rows) : 'a side failed';
    f.sameValues = bothRan && f.difference === null;
    f.count = countOf(q, f.oxbow.rows);
    f.countOk = bothRan && (q.expectedCount === null || f.count === q.expectedCount);
    f.pass = f.sameValues && f.countOk && f.ratio >= f.targetRatio;
  }
  return figures;
}

type BreakdownFigures = {
  catalog: { listFilesAllMs: number; listFilesHourMs: number; listPathsMs: number; schemaVersionsMs: number; getTableMs: number };
  /** Per query: DuckDB over the catalog's (pruned) file list without dedupe, and over the engine's view SQL. */
  queries: { name: QueryName; files: number; fileListMs: number; viewMs: number; oxbowMs: number; globMs: number }[];
};

async function timeBest(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = wallMs();
    await fn();
    times.push(wallMs() - started);
  }
  return best(times);
}

async function breakdown(o: Options, catalog: CatalogStore, lakeDir: string, direct: DirectDuckDb, queries: BenchQuery[], results: QueryFigures[], hourMs: number): Promise<BreakdownFigures> {
  const hourFilter: FileFilter = { eventTime: { fromMs: hourMs, toMs: hourMs + HOUR_MS - 1 } };
  const catalogFigures = {
    getTableMs: await timeBest(o.runs, () => catalog.getTable(NAMESPACE, DATASET)),
    listFilesAllMs: await timeBest(o.runs, () => catalog.listFiles(NAMESPACE, DATASET)),
    listFilesHourMs: await timeBest(o.runs, () => catalog.listFiles(NAMESPACE, DATASET, hourFilter)),
    listPathsMs: await timeBest(o.runs, () => catalog.listPaths(NAMESPACE, DATASET)),
    schemaVersionsMs: await timeBest(o.runs, () => catalog.schemaVersions(NAMESPACE, DATASET)),
  };
  say(
    `  catalog: getTable ${fmt(catalogFigures.getTableMs, 1)} ms, listFiles (all) ${fmt(catalogFigures.listFilesAllMs, 1)} ms, listFiles (one hour) ` +
      `${fmt(catalogFigures.listFilesHourMs, 1)} ms, listPaths ${fmt(catalogFigures.listPathsMs, 1)} ms, schemaVersions ${fmt(catalogFigures.schemaVersionsMs, 1)} ms`,
  );
  const columns = (await catalog.schemaVersions(NAMESPACE, DATASET)).at(-1)?.columns ?? [];
  const out: BreakdownFigures['queries'] = [];
  for (const [i, q] of queries.entries()) {
    const files = await catalog.listFiles(NAMESPACE, DATASET, q.name === 'one-hour' ? hourFilter : {});
    const locals = files.map((f) => path.join(lakeDir, f.path));
    const dedupe = new Set(filesNeedingDedupe(files).map((f) => path.join(lakeDir, f.path)));
    const list = `read_parquet([${locals.map((l) => `'${l.replaceAll("'", "''")}'`).join(', ')}])`;
    let fileListMs = Number.NaN;
    let viewMs = Number.NaN;
    try {
      fileListMs = await timeBest(o.runs, () => direct.query(q.sql(list)));
      viewMs = await timeBest(o.runs, () => direct.query(q.sql(`(${viewSql(locals.filter((l) => !dedupe.has(l)), locals.filter((l) => dedupe.has(l)), columns, false)}) AS ${DATASET}`)));
    } catch (err) {
      say(`  ${q.name}: ${message(err)}`);
    }
    const r = results[i]!;
    out.push({ name: q.name, files: files.length, fileListMs, viewMs, oxbowMs: r.oxbow.bestMs, globMs: r.glob.bestMs });
    say(`  ${q.name.padEnd(8)} ${fmt(files.length)} files: file list ${fmt(fileListMs, 1)} ms, engine's view SQL ${fmt(viewMs, 1)} ms`);
  }
  return { catalog: catalogFigures, queries: out };
}

// ---------------------------------------------------------------------------------------------------------------------
// The report

type Report = {
  date: string;
  machine: { cpus: number; node: string; kernel: string };
  options: Omit<Options, 'dir' | 'cpuProfDir' | 'jsonFile'>;
  lake: { rows: number; partitions: number; files: number; rowsPerFile: number; bytes: number; writeSeconds: number; firstHour: string; lastHour: string };
  crawl: CrawlFigures;
  crawlNew: (CrawlFigures & { writeSeconds: number; removal: CrawlFigures }) | null;
  queries: QueryFigures[];
  oneHour: { hour: string; filesRead: number; filesTotal: number };
  breakdown: BreakdownFigures | null;
  targets: { oneHour: boolean; count: boolean; groupBy: boolean; crawlNew: boolean | null };
  profile: ProfileSummary | null;
};

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function printReport(r: Report): void {
  const o = r.options;
  const out: string[] = [''];
  out.push(`Oxbow query benchmark — ${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, Linux ${r.machine.kernel}`);
  out.push(
    `lake: ${fmt(r.lake.rows)} rows in ${fmt(r.lake.files)} files (${fmt(r.lake.rowsPerFile)} rows each, ${fmt(r.lake.bytes / MB, 1)} MB) over ${fmt(r.lake.partitions)} hourly partitions ` +
      `${r.lake.firstHour} … ${r.lake.lastHour}; written by DuckDB in ${fmt(r.lake.writeSeconds, 1)} s`,
  );
  out.push(`DuckDB on both sides: threads ${o.threads}, memory_limit ${o.memoryLimit}; best of ${o.runs} runs each, alternating; Oxbow = LakeEngine.query, local store, SQLite catalog`);
  out.push('');
  out.push(`crawl (fresh SQLite catalog): ${fmt(r.crawl.files)} files in ${fmt(r.crawl.seconds, 2)} s = ${fmt(r.crawl.filesPerSecond)} files/s${r.crawl.problems > 0 ? ` (${r.crawl.problems} problems)` : ''}`);
  if (r.crawlNew !== null) {
    const c = r.crawlNew;
    out.push(
      `crawl of ${fmt(c.added)} new files (${NEW_FILE_ROWS} rows each, in ${fmt(Math.ceil(c.added / NEW_FILES_PER_PARTITION))} new partitions; ${fmt(c.files)} registered after): ` +
        `${fmt(c.seconds, 2)} s = ${fmt(c.filesPerSecond)} files/s; their removal crawled in ${fmt(c.removal.seconds, 2)} s (${fmt(c.removal.removed)} removed)`,
    );
  }
  out.push('');
  const rows = r.queries.map((q) => [
    q.name,
    q.oxbow.error === null ? fmt(q.oxbow.bestMs, 1) : 'error',
    q.glob.error === null ? fmt(q.glob.bestMs, 1) : 'error',
    `${fmt(q.ratio, 2)}x`,
    `≥${fmt(q.targetRatio, 1)}x`,
    `${fmt(q.oxbow.filesRead)}/${fmt(q.oxbow.filesTotal)}`,
    verdict(q.sameValues && q.countOk),
    verdict(q.pass),
  ]);
  out.push(...table(['query', 'Oxbow ms', 'glob ms', 'glob/Oxbow', 'target', 'files read', 'same values', 'target'], rows));
  out.push('  (ms: best of the runs, from the call until the rows are read; glob/Oxbow > 1 means Oxbow is faster; files read: by Oxbow after pruning)');
  for (const q of r.queries) {
    if (q.oxbow.error !== null) out.push(`  ${q.name} through Oxbow failed: ${q.oxbow.error}`);
    if (q.glob.error !== null) out.push(`  ${q.name} by glob failed: ${q.glob.error}`);
    if (q.difference !== null && q.oxbow.error === null && q.glob.error === null) out.push(`  ${q.name}: results differ: ${q.difference}`);
    if (!q.countOk && q.difference === null) out.push(`  ${q.name}: Oxbow counted ${fmt(q.count)} rows; the lake holds ${fmt(q.expectedCount ?? Number.NaN)}`);
  }
  out.push(`  one-hour query: ${r.oneHour.hour}, Oxbow read ${fmt(r.oneHour.filesRead)} of ${fmt(r.oneHour.filesTotal)} files`);
  if (r.breakdown !== null) {
    const b = r.breakdown;
    out.push('');
    out.push('where Oxbow spends it (DuckDB in the same settings; ms, best of the runs):');
    out.push(
      `  catalog calls of one query: getTable ${fmt(b.catalog.getTableMs, 1)}, listPaths ${fmt(b.catalog.listPathsMs, 1)}, schemaVersions ${fmt(b.catalog.schemaVersionsMs, 1)}, ` +
        `listFiles ${fmt(b.catalog.listFilesAllMs, 1)} (all files) / ${fmt(b.catalog.listFilesHourMs, 1)} (one hour)`,
    );
    out.push(
      ...table(
        ['query', 'files', 'glob', 'file list', 'view SQL', 'Oxbow', 'engine overhead'],
        b.queries.map((q) => [q.name, fmt(q.files), fmt(q.globMs, 1), fmt(q.fileListMs, 1), fmt(q.viewMs, 1), fmt(q.oxbowMs, 1), fmt(q.oxbowMs - q.viewMs, 1)]),
      ),
    );
    out.push('  (file list: read_parquet([the catalog\'s files]) without the dedupe; view SQL: the engine\'s view (currentRowsSql: the dedupe window) over');
    out.push('   the same files, run directly, without the engine\'s locks; engine overhead: Oxbow − view SQL = parse, catalog, a new view');
    out.push('   when the table\'s files changed, DuckDB checking every file against allowed_directories, result conversion; a');
    out.push('   negative figure is run-to-run noise)');
  }
  out.push('');
  const q = (name: QueryName) => r.queries.find((x) => x.name === name)!;
  out.push(`  target one-hour ≥10x faster through Oxbow than the glob:  ${fmt(q('one-hour').ratio, 2)}x  ${verdict(r.targets.oneHour)}`);
  out.push(`  target count no slower through Oxbow (glob/Oxbow ≥ 1.0):  ${fmt(q('count').ratio, 2)}x  ${verdict(r.targets.count)}`);
  out.push(`  target group-by no slower through Oxbow (≥ 1.0):          ${fmt(q('group-by').ratio, 2)}x  ${verdict(r.targets.groupBy)}`);
  if (r.crawlNew !== null && r.targets.crawlNew !== null) {
    const scaled = r.crawlNew.added === TARGET_CRAWL_NEW_FILES ? '' : ` (${fmt(r.crawlNew.added)} files; the target is for ${fmt(TARGET_CRAWL_NEW_FILES)})`;
    out.push(`  target crawl of ${fmt(TARGET_CRAWL_NEW_FILES)} new files < ${TARGET_CRAWL_NEW_SECONDS} s:                  ${fmt(r.crawlNew.seconds, 2)} s  ${verdict(r.targets.crawlNew)}${scaled}`);
  }
  if (r.profile !== null) {
    const p = r.profile;
    out.push('');
    out.push(`CPU profile of the query phase (main thread only; DuckDB's threads are not in it, waiting for them is (idle); ${fmt(p.totalMs)} ms sampled; ${p.file}):`);
    out.push('  self time by place: ' + p.places.slice(0, 8).map((x) => `${x.name} ${fmt(x.share * 100, 1)}%`).join(', '));
    for (const f of p.functions) out.push(`  ${fmt(f.share * 100, 1).padStart(5)}%  ${fmt(f.ms).padStart(6)} ms  ${f.name}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The run

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scratch = scratchDir(o.dir, 'oxbow-bench-query-');
  const base = scratch.dir;
  const lakeDir = path.join(base, 'lake');
  let catalog: CatalogStore | null = null;
  let engine: LakeEngine | null = null;
  let direct: DirectDuckDb | null = null;
  try {
    // The lake: every partition gets the same number of rows per file.
    const filesTotal = o.partitions * o.filesPerPartition;
    const rowsPerFile = Math.max(1, Math.round(o.rows / filesTotal));
    const planner = new FilePlanner();
    const files: PlannedFile[] = [];
    for (let h = 0; h < o.partitions; h++) for (let j = 0; j < o.filesPerPartition; j++) files.push(planner.file(h, rowsPerFile));
    const written = await write(lakeDir, files, o, 'the lake');
    say(`  ${fmt(written.rows)} rows in ${fmt(written.files)} files in ${fmt(written.seconds, 1)} s`);

    catalog = await openCatalog(path.join(base, 'catalog.db'));
    say('crawling the lake into a fresh catalog ...');
    const crawled = await timedCrawl(catalog, lakeDir, 'crawl', (r) => r.tables[0]!.added);
    const bytes = (await catalog.listPartitions(NAMESPACE, DATASET)).reduce((n, p) => n + p.bytes, 0);

    let crawlNew: Report['crawlNew'] = null;
    if (o.crawlNew > 0) {
      const fresh = Array.from({ length: o.crawlNew }, (_, n) => planner.file(o.partitions + Math.floor(n / NEW_FILES_PER_PARTITION), NEW_FILE_ROWS));
      const w = await write(lakeDir, fresh, o, 'new files');
      say(`  written in ${fmt(w.seconds, 1)} s; crawling them ...`);
      const c = await timedCrawl(catalog, lakeDir, 'crawl new', (r) => r.tables[0]!.added);
      await removeFiles(lakeDir, fresh);
      const removal = await timedCrawl(catalog, lakeDir, 'crawl removal', (r) => r.tables[0]!.removed);
      crawlNew = { ...c, writeSeconds: w.seconds, removal };
    }

    const hourIndex = Math.floor(o.partitions / 2);
    const hourMs = FIRST_HOUR_MS + hourIndex * HOUR_MS;
    const queries = benchQueries({ rows: written.rows, hourFrom: timestampLiteral(hourMs), hourTo: timestampLiteral(hourMs + HOUR_MS), hourRows: rowsPerFile * o.filesPerPartition });
    const glob = `read_parquet('${path.join(lakeDir, LOCATION).replaceAll("'", "''")}**/*.parquet')`;
    engine = await LakeEngine.create({ catalog, store: await openObjectStore(lakeDir), namespace: NAMESPACE, cacheDir: path.join(base, 'cache'), threads: o.threads, memoryLimit: o.memoryLimit, timeoutMs: o.timeoutMs });
    direct = await DirectDuckDb.create(o.threads, o.memoryLimit);

    let session: Session | null = null;
    if (o.cpuProfDir !== null) {
      mkdirSync(o.cpuProfDir, { recursive: true });
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    say(`queries (${o.runs} runs, Oxbow and glob alternating) ...`);
    const results = await runQueries(o, engine, direct, queries, glob);
    let profile: ProfileSummary | null = null;
    if (session !== null && o.cpuProfDir !== null) {
      const { profile: cpuProfile } = await session.post('Profiler.stop');
      session.disconnect();
      const file = path.join(o.cpuProfDir, 'query.cpuprofile');
      writeFileSync(file, JSON.stringify(cpuProfile));
      profile = summarizeProfile(file);
    }
    let breakdownFigures: BreakdownFigures | null = null;
    if (o.breakdown) {
      say('breakdown ...');
      breakdownFigures = await breakdown(o, catalog, lakeDir, direct, queries, results, hourMs);
    }

    const oneHour = results.find((r) => r.name === 'one-hour')!;
    const pass = (name: QueryName) => results.find((r) => r.name === name)!.pass;
    const { dir: _dir, cpuProfDir: _prof, jsonFile: _json, ...shown } = o;
    const report: Report = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.versions.node, kernel: os.release() },
      options: shown,
      lake: {
        rows: written.rows,
        partitions: o.partitions,
        files: written.files,
        rowsPerFile,
        bytes,
        writeSeconds: written.seconds,
        firstHour: timestampLiteral(FIRST_HOUR_MS),
        lastHour: timestampLiteral(FIRST_HOUR_MS + (o.partitions - 1) * HOUR_MS),
      },
      crawl: crawled,
      crawlNew,
      queries: results,
      oneHour: { hour: timestampLiteral(hourMs), filesRead: oneHour.oxbow.filesRead, filesTotal: oneHour.oxbow.filesTotal },
      breakdown: breakdownFigures,
      targets: {
        oneHour: pass('one-hour'),
        count: pass('count'),
        groupBy: pass('group-by'),
        crawlNew: crawlNew === null ? null : crawlNew.added === o.crawlNew && crawlNew.problems === 0 && crawlNew.seconds < TARGET_CRAWL_NEW_SECONDS * (o.crawlNew / TARGET_CRAWL_NEW_FILES),
      },
      profile,
    };
    printReport(report);
    if (o.jsonFile !== null) writeFileSync(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    return results.every((r) => r.sameValues && r.countOk) ? 0 : 1;
  } finally {
    engine?.close();
    direct?.close();
    await catalog?.close();
    scratch.release();
  }
}

process.exitCode = await main();
