// `oxbow broker`: runs the embedded Kafka-compatible broker alone until SIGTERM or SIGINT.
import { Broker } from '../broker/index.ts';
import { loadConfig, type OxbowConfigInput } from '../config/index.ts';
import { parse, settingFlag, usageError } from './args.ts';
import { runUntilSignal } from './service.ts';

const USAGE = `Usage: oxbow broker [--port <n>] [--host <addr>] [--data-dir <dir>] [--config <file>]

Runs the embedded Kafka-compatible broker. Prints "listening on <host>:<port>" once it accepts connections.
  --port <n>        TCP port (default 9092; 0 picks a free port)
  --host <addr>     address to listen on (default 127.0.0.1)
  --data-dir <dir>  where partition logs and committed offsets live (default ./data/broker)
  --config <file>   lake declaration (default ./oxbow.config.ts when present)`;

export async function broker(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, config: { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`broker takes no arguments, got ${JSON.stringify(positionals[0])}`, USAGE);
  const overrides: OxbowConfigInput = {
    broker: { port: settingFlag(values.port), host: values.host as string | undefined, dataDir: values['data-dir'] as string | undefined },
  };
  const config = await loadConfig({ file: values.config as string | undefined, overrides });
  const b = await Broker.start(config.broker);
  return runUntilSignal(`listening on ${b.address}\n`, async () => {
    await b.close();
  });
}
