// `oxbow stream --dataset <name>`: runs one stream worker of a dataset until SIGTERM or SIGINT; `replay` and `status` are admin actions.
import { loadConfig } from '../config/index.ts';
import { streamSettings, streamStatusPath, StreamThread } from '../stream/index.ts';
import { parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE } from './client.ts';
import { runUntilSignal } from './service.ts';

const USAGE = `Usage: oxbow stream --dataset <name> [options]
       oxbow stream replay <dataset> --from <where>
       oxbow stream status [<dataset>]

Runs one stream worker of a dataset: it joins consumer group oxbow.stream.<name>, reads <name>.raw and writes each
record to <name>.processed or <name>.dlq (or counts it as filtered), committing offsets once outputs are acknowledged.
Start more workers, here or on other machines, and they share the raw topic's partitions. Prints "stream worker ...
started" once running; SIGTERM or SIGINT finishes outputs in flight, commits and leaves the group.
  -d, --dataset <name>  the dataset to run (declared in oxbow.config.ts)
  --worker-id <id>      names the worker's status file (default <host>-<pid>-<random>)
${CLIENT_USAGE}

Run \`oxbow stream replay --help\` for replay and status.`;

export async function stream(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === 'replay' || first === 'status') return (await import('./stream-admin.ts')).streamAdmin(argv);
  const { values, positionals } = parse(argv, { ...CLIENT_FLAGS, dataset: { type: 'string', short: 'd' }, 'worker-id': { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`unknown stream action "${positionals[0]}"; expected --dataset <name>, replay or status`, USAGE);
  const name = values.dataset;
  if (typeof name !== 'string' || name === '') throw usageError('stream needs --dataset <name>', USAGE);
  const workerId = values['worker-id'] as string | undefined;
  if (workerId !== undefined && !/^[\w.-]+$/.test(workerId)) throw usageError(`--worker-id: ${JSON.stringify(workerId)} is not allowed; expected letters, digits, ".", "_" or "-"`);
  const config = await loadConfig({ file: values.config as string | undefined });
  const dataset = config.datasets[name];
  if (!dataset) {
    const known = Object.keys(config.datasets);
    throw usageError(`unknown dataset "${name}"; ${known.length === 0 ? 'no datasets are configured (defineLake({ datasets: {...} }) in oxbow.config.ts)' : `configured: ${known.join(', ')}`}`);
  }
  const { brokers, clientId } = await bootstrapBrokers(values);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} stream ${name}: ${line}\n`);
  const configFile = values.config as string | undefined;
  // The worker runs on a thread of its own, as under `oxbow up`: a thread started now can have a larger young
  // generation, which this one cannot (young-generation.ts), and one that ends on its own is started again.
  const worker = await StreamThread.start(
    {
      configFile,
      cwd: process.cwd(),
      dataset: name,
      options: {
        brokers,
        clientId,
        stateDir: config.stream.stateDir,
        ...(workerId === undefined ? {} : { workerId }),
        ...streamSettings(config.stream),
        configSource: { configFile, cwd: process.cwd() },
      },
    },
    log,
  );
  const t = dataset.topics;
  const statusFile = streamStatusPath(config.stream.stateDir, name, worker.workerId);
  return runUntilSignal(`stream worker ${worker.workerId} of dataset ${name} started: ${t.raw} → ${t.processed}, ${t.dlq} (group ${worker.groupId}, status ${statusFile})\n`, async () => {
    await worker.close();
    const c = worker.counters;
    const filtered = Object.values(c.filtered).reduce((a, b) => a + b, 0);
    const dead = Object.values(c.deadLettered).reduce((a, b) => a + b, 0);
    log(`stopped: ${c.recordsIn} in, ${c.processed} processed, ${filtered} filtered, ${dead} dead-lettered`);
  });
}
