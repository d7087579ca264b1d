// `oxbow produce <topic>`: one record per line of standard input, sent in batches with acks=all.
import { createInterface } from 'node:readline';
import { Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure } from './client.ts';

const USAGE = `Usage: oxbow produce <topic> [options] < records.txt

Sends one record per line of standard input (the line is the value) and waits for every record to be acknowledged.
  -K, --key-separator <s>  split each line at the first <s> into key and value
${CLIENT_USAGE}`;

const BATCH_RECORDS = 1000;

export async function produce(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_FLAGS, 'key-separator': { type: 'string', short: 'K' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const topic = positionals[0];
  if (topic === undefined || positionals.length > 1) throw usageError('produce needs exactly one topic', USAGE);
  const sep = values['key-separator'] as string | undefined;
  if (sep === '') throw usageError('--key-separator must not be empty');
  const { brokers, clientId } = await bootstrapBrokers(values);
  const producer = new Producer({
    clientId: `${clientId}-producer`,
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    autocreateTopics: true,
    retries: 3,
  });
  let sent = 0;
  let batch: { topic: string; key?: string; value: string }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const messages = batch;
    batch = [];
    await producer.send({ messages });
    sent += messages.length;
  };
  try {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      if (sep !== undefined) {
        const at = line.indexOf(sep);
        batch.push(at < 0 ? { topic, value: line } : { topic, key: line.slice(0, at), value: line.slice(at + sep.length) });
      } else {
        batch.push({ topic, value: line });
      }
      if (batch.length >= BATCH_RECORDS) await flush();
    }
    await flush();
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    await producer.close();
  }
  process.stderr.write(`produced ${sent} record(s) to ${topic}\n`);
  return 0;
}
