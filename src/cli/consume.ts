// `oxbow consume <topic>`: prints records as NDJSON, from the committed position of a group or from one end of the log.
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, stringDeserializers, type MessagesStream } from '@platformatic/kafka';
import { intFlag, parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure, requireTopics } from './client.ts';

const USAGE = `Usage: oxbow consume <topic> [options]

Prints each record as one JSON line: {"topic","partition","offset","timestamp","key","value","headers"}.
  --from-beginning   start at the earliest offset (default: only new records; a group resumes from its commits)
  -g, --group <g>    consume as a member of consumer group <g> and commit progress
  -n, --max <n>      stop after <n> records
${CLIENT_USAGE}`;

export async function consume(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...CLIENT_FLAGS, 'from-beginning': { type: 'boolean' }, group: { type: 'string', short: 'g' }, max: { type: 'string', short: 'n' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const topic = positionals[0];
  if (topic === undefined || positionals.length > 1) throw usageError('consume needs exactly one topic', USAGE);
  const max = intFlag('max', values.max, 1, Number.MAX_SAFE_INTEGER);
  const group = values.group as string | undefined;
  if (group === '') throw usageError('--group must not be empty');
  const { brokers, clientId } = await bootstrapBrokers(values);
  const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2 });
  try {
    await requireTopics(admin, [topic]);
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    await admin.close();
  }
  const consumer = new Consumer({
    clientId: `${clientId}-consumer`,
    // Without --group, a private group that never commits: nothing is left behind but an empty group.
    groupId: group ?? `oxbow-consume-${randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  });
  let count = 0;
  let stream: MessagesStream<string, string, string, string> | undefined;
  // Stop on a signal, or when the reader of standard output goes away (`oxbow consume t | head`): both end the loop
  // below, which commits what was printed and leaves the group.
  let stopped = false;
  const stop = () => {
    stopped = true;
    if (stream) void stream.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Left in place after the loop: a buffered line can still fail with EPIPE after the consumer is closed.
  process.stdout.on('error', stop);
  // Progress is committed per partition from the last printed record: every 1000 records and on the way out.
  const lastPrinted = new Map<number, { commit: () => unknown }>();
  const commitProgress = async () => {
    if (!group) return;
    for (const m of lastPrinted.values()) await m.commit();
    lastPrinted.clear();
  };
  try {
    stream = await consumer.consume({
      topics: [topic],
      mode: group ? 'committed' : values['from-beginning'] ? 'earliest' : 'latest',
      fallbackMode: values['from-beginning'] ? 'earliest' : 'latest',
      autocommit: false,
    });
    if (stopped) await stream.close();
    for await (const m of stream) {
      if (stopped) break;
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers) headers[String(k)] = String(v);
      const line = JSON.stringify({
        topic: m.topic,
        partition: m.partition,
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key ?? null,
        value: m.value ?? null,
        headers,
      });
      if (!process.stdout.write(`${line}\n`)) await waitForDrain();
      if (stopped) break; // stopped while the line waited in a buffer: it may never arrive, so it is not committed
      count++;
      lastPrinted.set(m.partition, m);
      if (count % 1000 === 0) await commitProgress();
      if (max !== undefined && count >= max) break;
    }
    await commitProgress();
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (stream) await stream.close();
    await consumer.close(true);
  }
  process.stderr.write(`consumed ${count} record(s) from ${topic}\n`);
  return 0;
}

/** Resolves when standard output drains, or when it fails or closes (then the consume loop sees `stopped`). */
function waitForDrain(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      process.stdout.off('close', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
    process.stdout.once('close', done);
  });
}
