// Shared by the client commands (topics, produce, consume): where the Kafka cluster is, and how its failures are reported.
import type { Admin } from '@platformatic/kafka';
import { loadConfig } from '../config/index.ts';
import { CliError, CliErrorCode, usageError } from './args.ts';

export const CLIENT_FLAGS = { brokers: { type: 'string' as const, short: 'b' }, config: { type: 'string' as const } };
export const CLIENT_USAGE = `  -b, --brokers <list>  bootstrap servers, host:port[,host:port] (default: kafka.brokers from the config, else the embedded broker's address)
  --config <file>       lake declaration (default ./oxbow.config.ts when present)`;

export async function bootstrapBrokers(values: { brokers?: unknown; config?: unknown }): Promise<{ brokers: string[]; clientId: string }> {
  const config = await loadConfig({ file: values.config as string | undefined });
  if (typeof values.brokers === 'string') {
    const list = values.brokers.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.find((s) => !/^[^:\s]+:\d{1,5}$/.test(s));
    if (list.length === 0 || bad !== undefined) {
      throw usageError(`--brokers: ${JSON.stringify(values.brokers)} is not allowed; expected host:port[,host:port]`);
    }
    return { brokers: list, clientId: config.kafka.clientId };
  }
  if (config.kafka.brokers.length > 0) return { brokers: config.kafka.brokers, clientId: config.kafka.clientId };
  return { brokers: [`${config.broker.advertisedHost}:${config.broker.port}`], clientId: config.kafka.clientId };
}

// The parts of @platformatic/kafka's errors worth showing: nested AggregateErrors whose leaves carry the Kafka error
// name and the broker's own message (protocol errors) or the socket error (network errors).
type ClientErrorShape = Error & { code?: unknown; errors?: unknown[]; apiId?: string; serverErrorMessage?: string | null; canRetry?: boolean };

function leaves(err: unknown, out: ClientErrorShape[] = [], depth = 0): ClientErrorShape[] {
  const e = err as ClientErrorShape;
  if (depth < 8 && Array.isArray(e?.errors) && e.errors.length > 0) {
    for (const inner of e.errors) leaves(inner, out, depth + 1);
  } else if (e instanceof Error) {
    out.push(e);
  }
  return out;
}

function describeLeaf(e: ClientErrorShape): string {
  if (typeof e.apiId === 'string') return `${e.serverErrorMessage || e.message.replace(/\.$/, '')} (${e.apiId})`;
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  const text = e.message.replace(/\.$/, '');
  return cause !== undefined && !text.includes(cause) ? `${text}: ${cause}` : text;
}

/** Turns a Kafka client failure into one line naming what failed and why; anything else passes through unchanged. */
export function kafkaFailure(err: unknown): unknown {
  const code = (err as ClientErrorShape | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !code.startsWith('PLT_KFK_')) return err;
  const reasons = [...new Set(leaves(err).map(describeLeaf))];
  const top = err.message.replace(/\.$/, '');
  const message = reasons.length === 0 || (reasons.length === 1 && reasons[0] === top) ? top : `${top}: ${reasons.join('; ')}`;
  const retryable = leaves(err).some((e) => e.canRetry === true);
  return new CliError(CliErrorCode.KAFKA_REQUEST_FAILED, message, { cause: err, retryable });
}

/**
 * Fails at once, naming the topic, when one of `names` does not exist. (Asked about an unknown topic by name, the
 * client retries for seconds before it gives up, since Kafka calls UNKNOWN_TOPIC_OR_PARTITION retriable.)
 */
export async function requireTopics(admin: Admin, names: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics({ includeInternals: true }));
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length > 0) {
    const list = missing.map((n) => JSON.stringify(n)).join(', ');
    throw new CliError(CliErrorCode.KAFKA_REQUEST_FAILED, `unknown topic${missing.length > 1 ? 's' : ''} ${list} (UNKNOWN_TOPIC_OR_PARTITION)`, { fields: { topics: missing } });
  }
}
