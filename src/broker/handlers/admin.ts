// Topic administration (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs) and the idempotent-producer
// handshake (InitProducerId), plus OffsetForLeaderEpoch, which is trivial on a single node with epoch 0.
import { CreatePartitionsApi, type CreatePartitionsRequest, type CreatePartitionsResponse } from '../../kafka/apis/create-partitions.ts';
import { CreateTopicsApi, type CreatableTopicResult, type CreateTopicsRequest, type CreateTopicsResponse } from '../../kafka/apis/create-topics.ts';
import { DeleteTopicsApi, type DeletableTopicResult, type DeleteTopicsRequest, type DeleteTopicsResponse } from '../../kafka/apis/delete-topics.ts';
import { DescribeConfigsApi, type DescribeConfigsRequest, type DescribeConfigsResponse } from '../../kafka/apis/describe-configs.ts';
import { InitProducerIdApi, type InitProducerIdRequest, type InitProducerIdResponse } from '../../kafka/apis/init-producer-id.ts';
import { OffsetForLeaderEpochApi, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse } from '../../kafka/apis/offset-for-leader-epoch.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { BrokerError, BrokerErrorCode } from '../errors.ts';
import { TOPIC_CONFIG_KEYS, topicConfigProblem, topicNameProblem, type TopicConfig, type TopicConfigKey } from '../topics.ts';
import { handler, type HandlerContext } from './context.ts';

const ZERO_UUID = Buffer.alloc(16);
const MAX_PARTITIONS = 10_000;
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const CONFIG_SOURCE_TOPIC = 1;
const CONFIG_SOURCE_DEFAULT = 5;

async function createTopics(ctx: HandlerContext, req: CreateTopicsRequest): Promise<CreateTopicsResponse> {
  const { broker } = ctx;
  const seen = new Map<string, number>();
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const results = [];
  for (const t of req.topics) {
    const fail = (errorCode: number, errorMessage: string): CreatableTopicResult => ({
      name: t.name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null,
    });
    const nameProblem = topicNameProblem(t.name);
    if (nameProblem) { results.push(fail(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem)); continue; }
    if ((seen.get(t.name) ?? 0) > 1) { results.push(fail(KafkaErrorCode.INVALID_REQUEST, `topic "${t.name}" appears more than once in the request`)); continue; }
    if (broker.topics.get(t.name)) { results.push(fail(KafkaErrorCode.TOPIC_ALREADY_EXISTS, `topic "${t.name}" already exists`)); continue; }
    if (t.assignments.length > 0) { results.push(fail(KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, 'manual replica assignment is not supported on a single-node broker')); continue; }
    const partitions = t.numPartitions === -1 ? broker.config.defaultPartitions : t.numPartitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      results.push(fail(KafkaErrorCode.INVALID_PARTITIONS, `partitions must be from 1 to ${MAX_PARTITIONS}, got ${t.numPartitions}`));
      continue;
    }
    if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
      results.push(fail(KafkaErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${t.replicationFactor} is larger than the 1 available broker`));
      continue;
    }
    const config: TopicConfig = {};
    const problem = t.configs.map((c) => topicConfigProblem(c.name, c.value)).find((p) => p !== null);
    if (problem) { results.push(fail(KafkaErrorCode.INVALID_CONFIG, problem)); continue; }
    for (const c of t.configs) config[c.name as TopicConfigKey] = Number(c.value);
    if (req.validateOnly) {
      results.push({ name: t.name, topicId: ZERO_UUID, errorCode: 0, errorMessage: null, topicConfigErrorCode: 0, numPartitions: partitions, replicationFactor: 1, configs: [] });
      continue;
    }
    try {
      const topic = await broker.topics.create(t.name, partitions, config);
      const effective = broker.topics.effectiveConfig(topic);
      results.push({
        name: t.name, topicId: topic.id, errorCode: 0, errorMessage: null, topicConfigErrorCode: 0, numPartitions: partitions, replicationFactor: 1,
        configs: TOPIC_CONFIG_KEYS.map((k) => ({
          name: k, value: String(effective[k]), readOnly: false, configSource: k in config ? CONFIG_SOURCE_TOPIC : CONFIG_SOURCE_DEFAULT, isSensitive: false,
        })),
      });
    } catch (err) {
      if (err instanceof BrokerError && err.code === BrokerErrorCode.TOPIC_EXISTS) results.push(fail(KafkaErrorCode.TOPIC_ALREADY_EXISTS, err.message));
      else throw err;
    }
  }
  return { throttleTimeMs: 0, topics: results };
}

async function deleteTopics(ctx: HandlerContext, req: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
  const { broker } = ctx;
  const wanted: { name: string | null; topicId: Buffer }[] =
    ctx.header.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const responses: DeletableTopicResult[] = [];
  for (const w of wanted) {
    const topic = w.name !== null ? broker.topics.get(w.name) : broker.topics.list().find((t) => t.id.equals(w.topicId));
    if (!topic) {
      responses.push({
        name: w.name, topicId: w.topicId,
        errorCode: w.name !== null ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : KafkaErrorCode.UNKNOWN_TOPIC_ID,
        errorMessage: `topic ${w.name ?? w.topicId.toString('hex')} does not exist`,
      });
      continue;
    }
    await broker.topics.delete(topic.name);
    await broker.groups.deleteTopicOffsets(topic.name);
    broker.log(`deleted topic ${topic.name}`);
    responses.push({ name: topic.name, topicId: topic.id, errorCode: 0, errorMessage: null });
  }
  return { throttleTimeMs: 0, responses };
}

async function createPartitions(ctx: HandlerContext, req: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
  const results = [];
  for (const t of req.topics) {
    const topic = ctx.broker.topics.get(t.name);
    const fail = (errorCode: number, errorMessage: string) => ({ name: t.name, errorCode, errorMessage });
    if (!topic) { results.push(fail(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${t.name}" does not exist`)); continue; }
    if (t.count <= topic.partitions.length || t.count > MAX_PARTITIONS) {
      results.push(fail(KafkaErrorCode.INVALID_PARTITIONS, `topic "${t.name}" has ${topic.partitions.length} partitions; the new count must be larger and at most ${MAX_PARTITIONS}, got ${t.count}`));
      continue;
    }
    if (!req.validateOnly) await ctx.broker.topics.addPartitions(t.name, t.count);
    results.push({ name: t.name, errorCode: 0, errorMessage: null });
  }
  return { throttleTimeMs: 0, results };
}

async function describeConfigs(ctx: HandlerContext, req: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
  const results = req.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (r.resourceType === RESOURCE_BROKER) return { ...base, errorCode: 0, errorMessage: null, configs: [] };
    if (r.resourceType !== RESOURCE_TOPIC) return { ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `resource type ${r.resourceType} is not supported`, configs: [] };
    const topic = ctx.broker.topics.get(r.resourceName);
    if (!topic) return { ...base, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic "${r.resourceName}" does not exist`, configs: [] };
    const effective = ctx.broker.topics.effectiveConfig(topic);
    const keys = r.configurationKeys === null ? TOPIC_CONFIG_KEYS : TOPIC_CONFIG_KEYS.filter((k) => r.configurationKeys!.includes(k));
    return {
      ...base, errorCode: 0, errorMessage: null,
      configs: keys.map((k) => {
        const own = k in topic.config;
        return {
          name: k, value: String(effective[k]), readOnly: false, isDefault: !own, configSource: own ? CONFIG_SOURCE_TOPIC : CONFIG_SOURCE_DEFAULT,
          isSensitive: false, synonyms: [], configType: 0, documentation: null,
        };
      }),
    };
  });
  return { throttleTimeMs: 0, results };
}

async function initProducerId(ctx: HandlerContext, req: InitProducerIdRequest): Promise<InitProducerIdResponse> {
  if (req.transactionalId !== null) {
    ctx.broker.log(`refused InitProducerId for transactional id ${JSON.stringify(req.transactionalId)} from ${ctx.conn.remote}: transactions are not supported`);
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  // KIP-360: a producer that already has an id asks for the next epoch of the same id.
  if (req.producerId >= 0 && req.producerEpoch >= 0 && req.producerEpoch < 32767) {
    return { throttleTimeMs: 0, errorCode: 0, producerId: req.producerId, producerEpoch: req.producerEpoch + 1 };
  }
  return { throttleTimeMs: 0, errorCode: 0, producerId: await ctx.broker.producerIds.allocate(), producerEpoch: 0 };
}

async function offsetForLeaderEpoch(ctx: HandlerContext, req: OffsetForLeaderEpochRequest): Promise<OffsetForLeaderEpochResponse> {
  // One node, one leader epoch (0) for the whole life of every partition: its end offset is the log end.
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => {
      const topic = ctx.broker.topics.get(t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const log = topic?.partitions[p.partition];
          if (!log) return { errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          if (p.currentLeaderEpoch > 0) return { errorCode: KafkaErrorCode.FENCED_LEADER_EPOCH, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          if (p.leaderEpoch > 0) return { errorCode: 0, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          return { errorCode: 0, partition: p.partition, leaderEpoch: 0, endOffset: log.logEndOffset };
        }),
      };
    }),
  };
}

export const createTopicsHandler = handler(CreateTopicsApi, createTopics);
export const deleteTopicsHandler = handler(DeleteTopicsApi, deleteTopics);
export const createPartitionsHandler = handler(CreatePartitionsApi, createPartitions);
export const describeConfigsHandler = handler(DescribeConfigsApi, describeConfigs);
export const initProducerIdHandler = handler(InitProducerIdApi, initProducerId);
export const offsetForLeaderEpochHandler = handler(OffsetForLeaderEpochApi, offsetForLeaderEpoch);
