// `oxbow topics list|create|describe|delete`: topic administration through Oxbow's Kafka client.
import { Admin, ConfigResourceTypes, ConfigSources, ListOffsetTimestamps } from '@platformatic/kafka';
import { intFlag, parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure, requireTopics } from './client.ts';

const USAGE = `Usage: oxbow topics <list|create|describe|delete> [topic...] [options]

  list                  print every topic with its partition count
  create <topic...>     create topics  [--partitions <n>] [--topic-config key=value ...]
  describe <topic...>   print partitions with leaders and offsets, and the topic's settings
  delete <topic...>     delete topics and their data
  -p, --partitions <n>  partitions of a new topic (default: the cluster's default)
  --topic-config <k=v>  a setting of a new topic, e.g. retention.ms=86400000; repeat for more
${CLIENT_USAGE}`;

/** Kafka topic setting names: lower-case words joined by dots, as in retention.ms or max.message.bytes. */
const TOPIC_SETTING = /^[a-z]+(?:\.[a-z]+)*=.+$/;

export async function topics(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...CLIENT_FLAGS, partitions: { type: 'string', short: 'p' }, 'topic-config': { type: 'string', multiple: true } },
    USAGE,
  );
  const [action, ...names] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (action === undefined) throw usageError('topics needs an action: list, create, describe or delete', USAGE);
  if (!['list', 'create', 'describe', 'delete'].includes(action)) throw usageError(`unknown topics action "${action}"`, USAGE);
  if (action !== 'list' && names.length === 0) throw usageError(`topics ${action} needs at least one topic name`, USAGE);
  const configs = (values['topic-config'] as string[] | undefined) ?? [];
  if (action !== 'create' && (configs.length > 0 || values.partitions !== undefined)) {
    throw usageError('--partitions and --topic-config apply to topics create only', USAGE);
  }
  const badSetting = configs.find((c) => !TOPIC_SETTING.test(c));
  if (badSetting !== undefined) {
    throw usageError(`--topic-config: ${JSON.stringify(badSetting)} is not allowed; expected key=value, e.g. retention.ms=86400000`);
  }
  const partitions = intFlag('partitions', values.partitions, 1, 10_000);
  const { brokers, clientId } = await bootstrapBrokers(values);
  const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2 });
  try {
    switch (action) {
      case 'list': {
        // Metadata for an empty list of topics is about no topic at all; listTopics asks for every topic.
        const all = await admin.listTopics();
        if (all.length === 0) return 0;
        const md = await admin.metadata({ topics: all });
        for (const name of [...all].sort()) process.stdout.write(`${name}\t${md.topics.get(name)?.partitionsCount ?? '?'} partition(s)\n`);
        return 0;
      }
      case 'create': {
        const created = await admin.createTopics({
          topics: names,
          partitions: partitions ?? -1,
          replicas: -1,
          configs: configs.map((c) => ({ name: c.slice(0, c.indexOf('=')), value: c.slice(c.indexOf('=') + 1) })),
        });
        for (const t of created) process.stdout.write(`created ${t.name} with ${t.partitions} partition(s)\n`);
        return 0;
      }
      case 'describe': {
        await requireTopics(admin, names);
        await describe(admin, names);
        return 0;
      }
      default: {
        await requireTopics(admin, names);
        await admin.deleteTopics({ topics: names });
        for (const n of names) process.stdout.write(`deleted ${n}\n`);
        return 0;
      }
    }
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    await admin.close();
  }
}

/**
 * Prints, per topic: its partitions with leader and the earliest and latest offset, then every setting the cluster
 * reports with where it comes from ("topic" when set on the topic, "default" otherwise), e.g.
 *   orders.raw	3 partition(s)
 *     partition 0	leader 1	earliest 0	latest 42
 *     retention.ms=86400000	(topic)
 */
async function describe(admin: Admin, names: string[]): Promise<void> {
  const md = await admin.metadata({ topics: names });
  const offsetsAt = async (timestamp: bigint) => {
    const topics = names.map((name) => ({
      name,
      partitions: Array.from({ length: md.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
    }));
    const listed = await admin.listOffsets({ topics });
    return new Map(listed.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partitionIndex}`, p.offset] as const)));
  };
  const earliest = await offsetsAt(ListOffsetTimestamps.EARLIEST);
  const latest = await offsetsAt(ListOffsetTimestamps.LATEST);
  const described = await admin.describeConfigs({ resources: names.map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName })) });
  for (const name of names) {
    const t = md.topics.get(name);
    if (!t) continue;
    process.stdout.write(`${name}\t${t.partitionsCount} partition(s)\n`);
    for (const [i, p] of t.partitions.entries()) {
      process.stdout.write(`  partition ${i}\tleader ${p.leader}\tearliest ${earliest.get(`${name}/${i}`) ?? '?'}\tlatest ${latest.get(`${name}/${i}`) ?? '?'}\n`);
    }
    const configs = described.find((d) => d.resourceName === name)?.configs ?? [];
    for (const c of [...configs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const source = c.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG ? 'topic' : c.configSource === ConfigSources.DEFAULT_CONFIG ? 'default' : 'broker';
      process.stdout.write(`  ${c.name}=${c.isSensitive ? '(hidden)' : (c.value ?? '')}\t(${source})\n`);
    }
  }
}
