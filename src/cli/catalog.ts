// `oxbow catalog tables|describe|partitions|crawl|ddl`: what the catalog knows of the lake, bringing it up to date, and
// the SQL that lets other engines read it.
import { catalogDdl, crawl, DDL_DIALECTS, lakeTables, locationRootOf, openCatalog, type DdlDialect } from '../catalog/index.ts';
import { loadConfig } from '../config/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';

const USAGE = `Usage: oxbow catalog crawl [--storage <url>] [--catalog <url>] [--config <file>]
       oxbow catalog tables [--format text|json]
       oxbow catalog describe <table> [--format text|json]
       oxbow catalog partitions <table> [--format text|json]
       oxbow catalog ddl [<table>] --dialect trino|hive|spark [--location-root <uri>]

crawl registers the golden zone's new files in the catalog (schema and statistics from their Parquet footers) and
unregisters removed ones; a file that cannot be read is reported and skipped. tables, describe and partitions show
what the catalog holds. ddl prints, for every table or the one named, the SQL that lets Trino (Hive connector), Hive
or Spark read it: an external table, its partitions at their directories, and a view applying the lake's reading rules.
  --format <f>           text (default) or json
  --dialect <d>          ddl: trino, hive or spark
  --location-root <uri>  ddl: the lake root as the engine names it (default the storage URL, e.g. s3a://bucket/prefix/)
  --storage <url>        root of the lake (default storage.url: ./data/lake)
  --catalog <url>        the catalog (default catalog.url: ./data/catalog.db)
  --config <file>        lake declaration (default ./oxbow.config.ts when present)`;

const ACTIONS = ['crawl', 'tables', 'describe', 'partitions', 'ddl'];

export async function catalogCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { format: { type: 'string' }, dialect: { type: 'string' }, 'location-root': { type: 'string' }, storage: { type: 'string' }, catalog: { type: 'string' }, config: { type: 'string' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, table, ...rest] = positionals;
  const needsTable = action === 'describe' || action === 'partitions';
  if (!ACTIONS.includes(action ?? '')) {
    throw usageError(action === undefined ? 'catalog needs an action: crawl, tables, describe, partitions or ddl' : `unknown catalog action "${action}"; expected crawl, tables, describe, partitions or ddl`, USAGE);
  }
  if (action === 'ddl') {
    if (rest.length > 0) throw usageError('catalog ddl takes at most one table name', USAGE);
  } else if (needsTable ? table === undefined || rest.length > 0 : table !== undefined) throw usageError(needsTable ? `catalog ${action} needs one table name` : `catalog ${action} takes no arguments`, USAGE);
  const format = (values.format as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw usageError(`--format: ${JSON.stringify(format)} is not allowed; expected text or json`, USAGE);
  const dialect = values.dialect as string | undefined;
  const locationRoot = values['location-root'] as string | undefined;
  if (action === 'ddl') {
    if (dialect === undefined) throw usageError(`catalog ddl needs --dialect: ${DDL_DIALECTS.join(', ')}`, USAGE);
    if (!(DDL_DIALECTS as readonly string[]).includes(dialect)) throw usageError(`--dialect: ${JSON.stringify(dialect)} is not allowed; expected ${DDL_DIALECTS.join(', ')}`, USAGE);
    if (values.format !== undefined) throw usageError('--format does not apply to catalog ddl: it prints SQL', USAGE);
    if (locationRoot?.trim() === '') throw usageError('--location-root: the URI is empty', USAGE);
  } else if (dialect !== undefined || locationRoot !== undefined) {
    throw usageError(`--${dialect !== undefined ? 'dialect' : 'location-root'} only applies to catalog ddl`, USAGE);
  }
  const config = await loadConfig({
    file: values.config as string | undefined,
    overrides: { storage: { url: values.storage as string | undefined }, catalog: { url: values.catalog as string | undefined } },
  });
  const ns = config.catalog.namespace;
  const catalog = await openCatalog(config.catalog.url);
  const print = (json: unknown, lines: string[]) => process.stdout.write(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : `${lines.join('\n')}\n`);
  try {
    if (action === 'crawl') {
      const store = await openObjectStore(config.storage.url);
      try {
        const result = await crawl(catalog, store, ns, lakeTables(config), (line) => process.stderr.write(`${line}\n`));
        print(result, [
          ...result.tables.map((t) => `${ns}.${t.name}: ${t.added} file(s) added, ${t.removed} removed, ${t.files} registered`),
          ...result.problems.map((p) => `skipped ${p.path} (${p.table}): ${p.why}`),
          `crawled in ${Math.round(result.elapsedMs)} ms`,
        ]);
        return result.problems.length > 0 ? 1 : 0;
      } finally {
        await store.close();
      }
    }
    if (action === 'tables') {
      const tables = await catalog.listTables(ns);
      print(tables, tables.length === 0 ? [`no tables in ${ns}; run oxbow catalog crawl once the sink has written files`] : tables.map((t) => `${t.namespace}.${t.name}  ${t.location}  schema v${t.schemaVersion}`));
      return 0;
    }
    if (action === 'ddl') {
      const tables = await catalog.listTables(ns);
      const chosen = table === undefined ? tables : tables.filter((x) => x.name === table);
      if (table !== undefined && chosen.length === 0) {
        throw usageError(`unknown table "${table}" in ${ns}; expected ${tables.length === 0 ? 'none: the namespace has no tables yet' : tables.map((x) => x.name).join(', ')}`, USAGE);
      }
      if (chosen.length === 0) process.stdout.write(`-- no tables in ${ns}; run oxbow catalog crawl once the sink has written files\n`);
      else process.stdout.write(await catalogDdl(catalog, chosen, { dialect: dialect as DdlDialect, locationRoot: locationRootOf(locationRoot ?? config.storage.url) }));
      return 0;
    }
    const t = await catalog.getTable(ns, table!);
    if (t === null) throw usageError(`unknown table "${table}" in ${ns}; run oxbow catalog tables to list them`);
    if (action === 'describe') {
      const versions = await catalog.schemaVersions(ns, t.name);
      const columns = versions.at(-1)?.columns ?? [];
      print({ table: t, columns, versions: versions.length }, [
        `${ns}.${t.name} (${t.format} at ${t.location}, schema v${t.schemaVersion})`,
        `partitioned by ${t.partitionKeys.join(', ') || 'nothing'}; event time ${t.eventTimeColumn ?? '(none)'}`,
        ...columns.map((c) => `  ${c.name}  ${c.type}${c.nullable ? '' : '  NOT NULL'}`),
      ]);
      return 0;
    }
    const partitions = await catalog.listPartitions(ns, t.name);
    const iso = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString());
    print(partitions, partitions.map((p) => `${p.location}  ${p.fileCount} file(s)  ${p.rows} rows  ${p.bytes} bytes  ${iso(p.eventTimeMin)} – ${iso(p.eventTimeMax)}`));
    return 0;
  } finally {
    await catalog.close();
  }
}
