// The topics of this broker: names, partitions and per-topic settings, persisted as topic.json beside each topic's
// partition logs (dataDir/topics/<topic>/<partition>/), reopened on start.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrokerConfig } from '../config/index.ts';
import { BrokerError, BrokerErrorCode } from './errors.ts';
import { PartitionLog, type LogConfig } from './log/index.ts';
import { StagingPool, probeDirectIo } from './log/direct-io.ts';
import { PageCacheDropper } from './log/page-cache.ts';

/** Topic settings a client may set, by their Kafka names. */
export const TOPIC_CONFIG_KEYS = ['retention.ms', 'retention.bytes', 'segment.bytes', 'max.message.bytes'] as const;
export type TopicConfigKey = (typeof TOPIC_CONFIG_KEYS)[number];
export type TopicConfig = Partial<Record<TopicConfigKey, number>>;

export type Topic = {
  name: string;
  id: Buffer;
  config: TopicConfig;
  partitions: PartitionLog[];
  internal: boolean;
};

type TopicFile = { name: string; id: string; partitions: number; config: TopicConfig; createdAt: string };

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Returns why a topic name is not allowed, or null when it is fine (Kafka's rules). */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'the topic name is empty';
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (name.length > 249) return `topic name is ${name.length} characters long; the limit is 249`;
  if (!LEGAL.test(name)) return `topic name "${name}" may only contain letters, digits, ".", "_" and "-"`;
  return null;
}

/** Returns why a topic setting is not allowed, or null. */
export function topicConfigProblem(key: string, value: string | null): string | null {
  if (!(TOPIC_CONFIG_KEYS as readonly string[]).includes(key)) {
    return `unknown topic setting "${key}"; supported: ${TOPIC_CONFIG_KEYS.join(', ')}`;
  }
  if (value === null || !/^-?\d+$/.test(value.trim())) return `${key}: ${JSON.stringify(value)} is not an integer`;
  const n = Number(value);
  const min = key === 'retention.ms' || key === 'retention.bytes' ? -1 : key === 'segment.bytes' ? 1024 : 64;
  if (n < min || (n === 0 && min === -1)) return `${key}: ${value} is not allowed; expected an integer ≥ ${min === -1 ? '1, or -1 for unlimited' : min}`;
  return null;
}

export function encodeTopicDirName(name: string): string {
  return name; // legal topic names are already safe path segments ("." and ".." are refused)
}

export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly dir: string;
  private readonly broker: BrokerConfig;
  private readonly creating = new Map<string, Promise<Topic>>();
  private readonly pageCache: PageCacheDropper;
  private readonly dropCache: ((file: string) => void) | undefined;
  /** Set when appends are written with direct I/O (broker.directIo). */
  private staging: StagingPool | undefined;

  private constructor(dir: string, broker: BrokerConfig, log: (line: string) => void) {
    this.dir = dir;
    this.broker = broker;
    this.pageCache = new PageCacheDropper({ mode: broker.pageCache, log });
    this.dropCache = this.pageCache.enabled ? (file) => this.pageCache.drop(file) : undefined;
  }

  static async open(broker: BrokerConfig, log: (line: string) => void = () => undefined): Promise<TopicStore> {
    const dir = path.join(broker.dataDir, 'topics');
    try {
      await mkdir(dir, { recursive: true });
    } catch (cause) {
      throw new BrokerError(BrokerErrorCode.DATA_DIR_UNUSABLE, `cannot create data directory ${dir}: ${(cause as Error).message}`, { cause });
    }
    const store = new TopicStore(dir, broker, log);
    if (broker.directIo === 'on' || (broker.directIo === 'auto' && broker.fsync.mode === 'always')) {
      const pool = new StagingPool();
      const refused = await probeDirectIo(dir, pool);
      if (refused === null) store.staging = pool;
      else if (broker.directIo === 'on') {
        throw new BrokerError(BrokerErrorCode.DATA_DIR_UNUSABLE, `broker.directIo is on, but ${dir} does not take direct I/O: ${refused}; set broker.directIo to auto or off`);
      } else log(`appends go through the page cache: ${dir} does not take direct I/O (${refused})`);
    }
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith('.deleted')) {
        await rm(path.join(dir, entry.name), { recursive: true, force: true });
        continue;
      }
      let meta: TopicFile;
      try {
        meta = JSON.parse(await readFile(path.join(dir, entry.name, 'topic.json'), 'utf8')) as TopicFile;
      } catch {
        continue; // a topic whose creation never finished: no topic.json
      }
      const topic: Topic = { name: meta.name, id: Buffer.from(meta.id.replaceAll('-', ''), 'hex'), config: meta.config, partitions: [], internal: false };
      for (let p = 0; p < meta.partitions; p++) {
        topic.partitions.push(await PartitionLog.open(path.join(dir, entry.name, String(p)), store.logConfig(meta.config)));
      }
      store.topics.set(meta.name, topic);
    }
    return store;
  }

  logConfig(config: TopicConfig): LogConfig {
    return {
      segmentBytes: config['segment.bytes'] ?? this.broker.segmentBytes,
      retentionMs: config['retention.ms'] ?? this.broker.retentionMs,
      retentionBytes: config['retention.bytes'] ?? this.broker.retentionBytes,
      maxMessageBytes: config['max.message.bytes'] ?? this.broker.maxMessageBytes,
      fsync: this.broker.fsync,
      indexIntervalBytes: this.broker.indexIntervalBytes,
      ...(this.dropCache === undefined ? {} : { dropCache: this.dropCache }),
      ...(this.staging === undefined ? {} : { staging: this.staging }),
    };
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  list(): Topic[] {
    return [...this.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Effective value of a setting for a topic (its own, else the broker default). */
  effectiveConfig(topic: Topic): Record<TopicConfigKey, number> {
    const lc = this.logConfig(topic.config);
    return {
      'retention.ms': lc.retentionMs,
      'retention.bytes': lc.retentionBytes,
      'segment.bytes': lc.segmentBytes,
      'max.message.bytes': lc.maxMessageBytes,
    };
  }

  /** Creates a topic; concurrent creates of one name share one creation. */
  async create(name: string, partitions: number, config: TopicConfig = {}): Promise<Topic> {
    const problem = topicNameProblem(name);
    if (problem) throw new BrokerError(BrokerErrorCode.INVALID_TOPIC_NAME, problem, { fields: { topic: name } });
    if (this.topics.has(name)) throw new BrokerError(BrokerErrorCode.TOPIC_EXISTS, `topic "${name}" already exists`, { fields: { topic: name } });
    const pending = this.creating.get(name);
    if (pending) return pending;
    const work = this.doCreate(name, partitions, config);
    this.creating.set(name, work);
    try {
      return await work;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Returns the topic, creating it with defaults when auto-creation allows. */
  async getOrCreate(name: string): Promise<Topic | undefined> {
    const t = this.topics.get(name);
    if (t) return t;
    if (!this.broker.autoCreateTopics || topicNameProblem(name)) return undefined;
    const pending = this.creating.get(name);
    if (pending) return pending;
    return this.create(name, this.broker.defaultPartitions);
  }

  private async doCreate(name: string, partitions: number, config: TopicConfig): Promise<Topic> {
    const tdir = path.join(this.dir, encodeTopicDirName(name));
    await mkdir(tdir, { recursive: true });
    const topic: Topic = { name, id: Buffer.from(randomUUID().replaceAll('-', ''), 'hex'), config, partitions: [], internal: false };
    for (let p = 0; p < partitions; p++) {
      topic.partitions.push(await PartitionLog.open(path.join(tdir, String(p)), this.logConfig(config)));
    }
    // topic.json is written last and atomically: a topic exists once it is there.
    await this.writeTopicFile(topic, partitions);
    this.topics.set(name, topic);
    return topic;
  }

  /** Grows a topic to `count` partitions (Kafka never shrinks a topic). */
  async addPartitions(name: string, count: number): Promise<void> {
    const topic = this.topics.get(name);
    if (!topic) throw new BrokerError(BrokerErrorCode.UNKNOWN_TOPIC, `topic "${name}" does not exist`, { fields: { topic: name } });
    const tdir = path.join(this.dir, encodeTopicDirName(name));
    const added: PartitionLog[] = [];
    for (let p = topic.partitions.length; p < count; p++) {
      added.push(await PartitionLog.open(path.join(tdir, String(p)), this.logConfig(topic.config)));
    }
    await this.writeTopicFile(topic, count);
    topic.partitions.push(...added);
  }

  private async writeTopicFile(topic: Topic, partitions: number, createdAt = new Date().toISOString()): Promise<void> {
    const tdir = path.join(this.dir, encodeTopicDirName(topic.name));
    const meta: TopicFile = { name: topic.name, id: topic.id.toString('hex'), partitions, config: topic.config, createdAt };
    await writeFile(path.join(tdir, 'topic.json.tmp'), JSON.stringify(meta, null, 2));
    await rename(path.join(tdir, 'topic.json.tmp'), path.join(tdir, 'topic.json'));
  }

  async delete(name: string): Promise<void> {
    const topic = this.topics.get(name);
    if (!topic) throw new BrokerError(BrokerErrorCode.UNKNOWN_TOPIC, `topic "${name}" does not exist`, { fields: { topic: name } });
    this.topics.delete(name);
    for (const p of topic.partitions) await p.close();
    const tdir = path.join(this.dir, encodeTopicDirName(name));
    const gone = `${tdir}.${Date.now()}.deleted`;
    await rename(tdir, gone);
    await rm(gone, { recursive: true, force: true });
  }

  async applyRetention(): Promise<number> {
    let deleted = 0;
    for (const t of this.topics.values()) {
      for (const p of t.partitions) deleted += (await p.applyRetention()).deletedSegments;
    }
    return deleted;
  }

  async close(): Promise<void> {
    for (const t of this.topics.values()) for (const p of t.partitions) await p.close();
    await this.pageCache.close();
    this.topics.clear();
  }
}
