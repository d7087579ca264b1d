// `oxbow lake ls <table>` and `oxbow lake compact <table>`: what the golden zone holds for a dataset, and merging its small files.
import { loadConfig, parseBytes, parseDurationMs, type OxbowConfig } from '../config/index.ts';
import { compactTable, createPartitioner, listingPrefix, listLake } from '../sink/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';

const USAGE = `Usage: oxbow lake ls <table> [--storage <url>] [--format text|json] [--config <file>]
       oxbow lake compact <table> [--partition <path>]... [--target-size <size>] [--min-age <duration>] [--storage <url>]

ls lists the partitions (directories) of a table in the golden zone and their Parquet files with sizes and row counts.
compact merges runs of small files of each closed partition into files of about --target-size; readers see the old
files or the merged one, never both (docs/sink.md, Compaction). A table is a dataset's processed topic; give the
dataset name (orders) or the topic (orders.processed).
  --storage <url>       root of the lake (default storage.url: ./data/lake)
  --format <f>          ls: text (default) or json
  --partition <path>    compact: only directories starting with this path, e.g. golden/orders.processed/2026/11/21/
                        (repeatable; default every partition)
  --target-size <size>  compact: size of merged files (default 128MiB)
  --min-age <duration>  compact: a partition is closed once its newest file is this old (default 10min)
  --config <file>       lake declaration (default ./oxbow.config.ts when present)`;

export async function lake(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      storage: { type: 'string' },
      format: { type: 'string' },
      config: { type: 'string' },
      partition: { type: 'string', multiple: true },
      'target-size': { type: 'string' },
      'min-age': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, table, ...rest] = positionals;
  if (action !== 'ls' && action !== 'compact') throw usageError(action === undefined ? 'lake needs an action: ls or compact' : `unknown lake action "${action}"; expected ls or compact`, USAGE);
  if (table === undefined || rest.length > 0) throw usageError(`lake ${action} needs exactly one table name`, USAGE);
  const config = await loadConfig({ file: values.config as string | undefined, overrides: { storage: { url: values.storage as string | undefined } } });
  const { topic, prefix } = tableOf(config, table);
  if (action === 'compact') return compact(config, topic, prefix, values);
  const format = (values.format as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw usageError(`--format: ${JSON.stringify(format)} is not allowed; expected text or json`, USAGE);
  const store = await openObjectStore(config.storage.url);
  try {
    const partitions = await listLake(store, topic, prefix);
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ table: topic, storage: store.url, partitions }, null, 2)}\n`);
      return 0;
    }
    if (partitions.length === 0) {
      process.stdout.write(`${topic}: no files in ${store.url}\n`);
      return 0;
    }
    const files = partitions.reduce((n, p) => n + p.files.length, 0);
    const rows = partitions.reduce((n, p) => n + p.rows, 0);
    const bytes = partitions.reduce((n, p) => n + p.bytes, 0);
    const out = [`${topic} in ${store.url}: ${partitions.length} partition(s), ${files} file(s), ${fmt(rows)} rows, ${size(bytes)}`];
    for (const p of partitions) {
      out.push(`${p.path}  ${p.files.length} file(s)  ${fmt(p.rows)} rows  ${size(p.bytes)}`);
      for (const f of p.files) out.push(`  ${f.key.slice(p.path.length)}  ${fmt(f.rows)} rows  ${size(f.size)}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** The processed topic of a table name (a dataset or its topic) and where its files are listed. */
function tableOf(config: OxbowConfig, table: string): { topic: string; prefix: string } {
  const dataset = Object.values(config.datasets).find((d) => d.name === table || d.topics.processed === table);
  const topic = dataset?.topics.processed ?? (table.includes('.') ? table : `${table}.processed`);
  const s = config.sink;
  const partitioner = createPartitioner({ topic, pathFormat: s.pathFormat, granularity: s.granularity, timeZone: s.timeZone, fieldPartitions: s.fieldPartitions });
  return { topic, prefix: listingPrefix(partitioner.pathFormat, topic) };
}

async function compact(config: OxbowConfig, topic: string, prefix: string, values: Record<string, unknown>): Promise<number> {
  const targetRaw = (values['target-size'] as string | undefined) ?? '128MiB';
  const targetBytes = parseBytes(/^\d+$/.test(targetRaw) ? Number(targetRaw) : targetRaw);
  if (targetBytes === null || targetBytes < 1) throw usageError(`--target-size: ${JSON.stringify(targetRaw)} is not allowed; expected a size such as 128MiB`, USAGE);
  const ageRaw = (values['min-age'] as string | undefined) ?? '10min';
  const minAgeMs = parseDurationMs(/^\d+$/.test(ageRaw) ? Number(ageRaw) : ageRaw);
  if (minAgeMs === null || minAgeMs < 0) throw usageError(`--min-age: ${JSON.stringify(ageRaw)} is not allowed; expected a duration such as 10min or 0`, USAGE);
  const partitions = ((values.partition as string[] | undefined) ?? []).map((p) => (p.endsWith('/') ? p : `${p}/`));
  for (const p of partitions) {
    if (!p.startsWith(prefix)) throw usageError(`--partition: ${JSON.stringify(p)} is not a partition of ${topic}; its paths start with ${prefix}`, USAGE);
  }
  const store = await openObjectStore(config.storage.url);
  try {
    const result = await compactTable(store, {
      topic,
      prefix,
      targetBytes,
      minAgeMs,
      partitions,
      compression: config.sink.compression,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const inputs = result.merged.reduce((n, m) => n + m.inputs.length, 0);
    const open = result.skippedOpen.length === 0 ? '' : `; ${result.skippedOpen.length} partition(s) still being written were left alone (--min-age)`;
    process.stdout.write(`${topic}: merged ${inputs} file(s) into ${result.merged.length}${open}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
