// `oxbow lake ls <table>`: what the golden zone holds for a dataset.
import { loadConfig } from '../config/index.ts';
import { createPartitioner, listingPrefix, listLake } from '../sink/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';

const USAGE = `Usage: oxbow lake ls <table> [--storage <url>] [--format text|json] [--config <file>]

Lists the partitions (directories) of a table in the golden zone and their Parquet files with sizes and row counts.
A table is a dataset's processed topic; give the dataset name (orders) or the topic (orders.processed).
  --storage <url>   root of the lake (default storage.url: ./data/lake)
  --format <f>      text (default) or json
  --config <file>   lake declaration (default ./oxbow.config.ts when present)`;

export async function lake(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { storage: { type: 'string' }, format: { type: 'string' }, config: { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, table, ...rest] = positionals;
  if (action !== 'ls') throw usageError(action === undefined ? 'lake needs an action: ls' : `unknown lake action "${action}"; expected ls`, USAGE);
  if (table === undefined || rest.length > 0) throw usageError('lake ls needs exactly one table name', USAGE);
  const format = (values.format as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw usageError(`--format: ${JSON.stringify(format)} is not allowed; expected text or json`, USAGE);
  const config = await loadConfig({ file: values.config as string | undefined, overrides: { storage: { url: values.storage as string | undefined } } });
  const dataset = Object.values(config.datasets).find((d) => d.name === table || d.topics.processed === table);
  const topic = dataset?.topics.processed ?? (table.includes('.') ? table : `${table}.processed`);
  const s = config.sink;
  const partitioner = createPartitioner({ topic, pathFormat: s.pathFormat, granularity: s.granularity, timeZone: s.timeZone, fieldPartitions: s.fieldPartitions });
  const store = await openObjectStore(config.storage.url);
  try {
    const partitions = await listLake(store, topic, listingPrefix(partitioner.pathFormat, topic));
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
