// Shared by the client commands (topics, produce, consume): where the Kafka cluster is.
import { loadConfig } from '../config/index.ts';
import { CliError, CliErrorCode } from './args.ts';

export const CLIENT_FLAGS = { brokers: { type: 'string' as const, short: 'b' }, config: { type: 'string' as const } };
export const CLIENT_USAGE = `  -b, --brokers <list>  bootstrap servers, host:port[,host:port] (default: kafka.brokers from the config, else the embedded broker's address)
  --config <file>       lake declaration (default ./oxbow.config.ts when present)`;

export async function bootstrapBrokers(values: { brokers?: unknown; config?: unknown }): Promise<{ brokers: string[]; clientId: string }> {
  const config = await loadConfig({ file: values.config as string | undefined });
  if (typeof values.brokers === 'string') {
    const list = values.brokers.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.find((s) => !/^[^:\s]+:\d{1,5}$/.test(s));
    if (list.length === 0 || bad !== undefined) {
      throw new CliError(CliErrorCode.USAGE, `--brokers: ${JSON.stringify(values.brokers)} is not allowed; expected host:port[,host:port]`);
    }
    return { brokers: list, clientId: config.kafka.clientId };
  }
  if (config.kafka.brokers.length > 0) return { brokers: config.kafka.brokers, clientId: config.kafka.clientId };
  return { brokers: [`${config.broker.advertisedHost}:${config.broker.port}`], clientId: config.kafka.clientId };
}
