// The `oxbow` command: dispatches to one module per command and turns errors into messages and exit codes.
import { configFileFor } from '../config/index.ts';
import { OxbowError } from '../errors.ts';
import { CliErrorCode, usageError } from './args.ts';

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  up: { summary: 'run the whole lake in one process on embedded defaults and print its endpoints', run: async (a) => (await import('./up.ts')).up(a) },
  demo: { summary: "send realistic orders, some malformed on purpose, to a running lake's orders.raw", run: async (a) => (await import('./demo.ts')).demo(a) },
  broker: { summary: 'run the embedded Kafka-compatible broker alone', run: async (a) => (await import('./broker.ts')).broker(a) },
  topics: { summary: 'list, create, describe or delete topics', run: async (a) => (await import('./topics.ts')).topics(a) },
  produce: { summary: 'send one record per line of standard input to a topic', run: async (a) => (await import('./produce.ts')).produce(a) },
  consume: { summary: 'print records of a topic as NDJSON', run: async (a) => (await import('./consume.ts')).consume(a) },
  stream: { summary: "run a stream worker of a dataset (--dataset), or replay or show a dataset's stream", run: async (a) => (await import('./stream.ts')).stream(a) },
  sink: { summary: "run the lake sink of a dataset: its processed topic into the golden zone as Parquet, exactly once", run: async (a) => (await import('./sink.ts')).sink(a) },
  lake: { summary: 'list the partitions and files of a table in the golden zone', run: async (a) => (await import('./lake.ts')).lake(a) },
  catalog: { summary: "crawl the golden zone into the catalog, or show the catalog's tables, columns and partitions", run: async (a) => (await import('./catalog.ts')).catalogCommand(a) },
  sql: { summary: 'run a read query over the lake and print the result as a table, CSV or JSON', run: async (a) => (await import('./sql.ts')).sql(a) },
  dlq: { summary: "count a dataset's dead letters by error code, or send them back to its raw topic", run: async (a) => (await import('./dlq.ts')).dlq(a) },
};

/**
 * The value of `--config` in a command line (`--config f` or `--config=f`); undefined when absent. Only for the notice
 * below: the command's own parse() stays the judge of the flags.
 */
function configFlag(argv: string[]): string | undefined {
  for (const [i, a] of argv.entries()) {
    if (a === '--config') return argv[i + 1] ?? '';
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

/** Commands that run datasets of the lake say so when, lacking an oxbow.config.ts, they run the example lake. */
function exampleNotice(name: string, argv: string[]): void {
  const runsDatasets = name === 'up' || name === 'sink' || (name === 'stream' && argv[0] !== 'replay' && argv[0] !== 'status');
  if (!runsDatasets || argv.includes('--help') || argv.includes('-h')) return;
  const { file, example } = configFileFor({ file: configFlag(argv) });
  if (example) process.stderr.write(`no oxbow.config.ts here: running the example lake ${file} (dataset orders; see docs/demo.md)\n`);
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Oxbow: an open-source data lake for the hybrid cloud.',
    '',
    'Usage: oxbow <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `oxbow <command> --help` for the options of one command.',
  ].join('\n');
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error, 78 configuration error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`oxbow ${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw usageError(`unknown command "${name}"`, usage());
    exampleNotice(name, rest);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof OxbowError) {
      process.stderr.write(`oxbow ${name}: ${err.message} [${err.code}]\n`);
      if (typeof err.fields.usage === 'string') process.stderr.write(`\n${err.fields.usage}\n`);
      return err.code === CliErrorCode.USAGE ? 2 : err.code.startsWith('OXBOW_CONFIG_') ? 78 : 1;
    }
    process.stderr.write(`oxbow ${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
