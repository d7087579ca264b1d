// `oxbow up`: runs the lake in one process on embedded defaults and prints its endpoints.
import { Broker } from '../broker/index.ts';
import { loadConfig, type OxbowConfigInput } from '../config/index.ts';
import { parse, settingFlag, usageError } from './args.ts';
import { runUntilSignal } from './broker.ts';

const USAGE = `Usage: oxbow up [--config <file>] [--data-dir <dir>] [--kafka-port <n>]

Runs every role of the lake in this process with embedded defaults and prints the endpoints.
  --config <file>     lake declaration (default ./oxbow.config.ts when present)
  --data-dir <dir>    root of all state (default ./data)
  --kafka-port <n>    port of the embedded Kafka broker (default 9092; 0 picks a free port)`;

export async function up(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, 'data-dir': { type: 'string' }, 'kafka-port': { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`up takes no arguments, got ${JSON.stringify(positionals[0])}`, USAGE);
  const dataDir = (values['data-dir'] as string | undefined) ?? './data';
  const overrides: OxbowConfigInput = { broker: { port: settingFlag(values['kafka-port']), dataDir: `${dataDir}/broker` } };
  const config = await loadConfig({ file: values.config as string | undefined, overrides });
  const broker = await Broker.start(config.broker);
  process.stdout.write(
    [
      'Oxbow is up.',
      `  kafka    ${broker.address}    (bootstrap server for any Kafka client; try: kcat -b ${broker.address} -L)`,
      `  data     ${dataDir}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  return runUntilSignal(() => broker.close());
}
