// `oxbow topics list|create|describe|delete`: topic administration through Oxbow's Kafka client.
import { Admin } from '@platformatic/kafka';
import { CliError, CliErrorCode, intFlag, parse } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE } from './client.ts';

const USAGE = `Usage: oxbow topics <list|create|describe|delete> [topic...] [options]

  list                          print every topic with its partition count
  create <topic...>             create topics  [--partitions <n>] [--topic-config key=value ...]
  describe <topic...>           print partitions with leaders and offsets
  delete <topic...>             delete topics and their data
${CLIENT_USAGE}`;

export async function topics(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...CLIENT_FLAGS, partitions: { type: 'string', short: 'p' }, 'topic-config': { type: 'string', multiple: true } },
    USAGE,
  );
  const [action, ...names] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const configs = (values['topic-config'] as string[] | undefined) ?? [];
  const badSetting = configs.find((c) => !/^[a-z.]+=.*$/.test(c));
  if (badSetting !== undefined) throw new CliError(CliErrorCode.USAGE, `--topic-config: ${JSON.stringify(badSetting)} is not allowed; expected key=value, e.g. retention.ms=86400000`);
  const { brokers, clientId } = await bootstrapBrokers(values);
  const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2 });
  try {
    switch (action) {
      case 'list': {
        const md = await admin.metadata({ topics: [] });
        const rows = [...md.topics.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        for (const [name, t] of rows) process.stdout.write(`${name}\t${t.partitionsCount} partition(s)\n`);
        return 0;
      }
      case 'create': {
        if (names.length === 0) throw new CliError(CliErrorCode.USAGE, `topics create needs at least one topic name\n\n${USAGE}`);
        const partitions = intFlag('partitions', values.partitions, 1, 10_000) ?? 1;
        const created = await admin.createTopics({
          topics: names,
          partitions,
          replicas: 1,
          configs: configs.map((c) => ({ name: c.slice(0, c.indexOf('=')), value: c.slice(c.indexOf('=') + 1) })),
        });
        for (const t of created) process.stdout.write(`created ${t.name} with ${t.partitions} partition(s)\n`);
        return 0;
      }
      case 'describe': {
        const md = await admin.metadata({ topics: names });
        for (const [name, t] of md.topics) {
          process.stdout.write(`${name}\tid ${t.id}\t${t.partitionsCount} partition(s)\n`);
          for (const [i, p] of t.partitions.entries()) process.stdout.write(`  partition ${i}\tleader ${p.leader}\n`);
        }
        return 0;
      }
      case 'delete': {
        if (names.length === 0) throw new CliError(CliErrorCode.USAGE, `topics delete needs at least one topic name\n\n${USAGE}`);
        await admin.deleteTopics({ topics: names });
        for (const n of names) process.stdout.write(`deleted ${n}\n`);
        return 0;
      }
      default:
        throw new CliError(CliErrorCode.USAGE, `unknown topics action "${action}"\n\n${USAGE}`);
    }
  } finally {
    await admin.close();
  }
}
