// `oxbow sink --dataset <name>`: runs the lake sink of one dataset until SIGTERM or SIGINT.
import { loadConfig } from '../config/index.ts';
import { sinkSummary, startSinkFromConfig } from '../sink/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE } from './client.ts';
import { runUntilSignal } from './service.ts';

const USAGE = `Usage: oxbow sink --dataset <name> [options]

Runs the lake sink of a dataset: it joins consumer group oxbow.sink.<name>, reads <name>.processed and writes it to
the golden zone as Parquet files partitioned by event time, exactly once (see docs/sink.md). Prints "sink of dataset
... started" once running; SIGTERM or SIGINT commits the open files, then leaves the group.
  -d, --dataset <name>  the dataset whose processed topic to write (declared in oxbow.config.ts)
  --storage <url>       root of the lake (default storage.url: ./data/lake); a directory or s3://bucket/prefix?…
${CLIENT_USAGE}`;

export async function sink(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_FLAGS, dataset: { type: 'string', short: 'd' }, storage: { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`sink takes no arguments, got ${JSON.stringify(positionals[0])}`, USAGE);
  const name = values.dataset;
  if (typeof name !== 'string' || name === '') throw usageError('sink needs --dataset <name>', USAGE);
  const config = await loadConfig({ file: values.config as string | undefined, overrides: { storage: { url: values.storage as string | undefined } } });
  const dataset = config.datasets[name];
  if (!dataset) {
    const known = Object.keys(config.datasets);
    throw usageError(`unknown dataset "${name}"; ${known.length === 0 ? 'no datasets are configured (defineLake({ datasets: {...} }) in oxbow.config.ts)' : `configured: ${known.join(', ')}`}`);
  }
  const { brokers } = await bootstrapBrokers(values);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} sink ${name}: ${line}\n`);
  const store = await openObjectStore(config.storage.url);
  let s;
  try {
    s = await startSinkFromConfig({ config, dataset, brokers, store, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  const running = s;
  return runUntilSignal(`sink of dataset ${name} started: ${dataset.topics.processed} → ${store.url} (group ${s.groupId})\n`, async () => {
    await running.close();
    await store.close();
    log(`stopped: ${sinkSummary(running)}`);
  });
}
