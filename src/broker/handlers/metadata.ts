// Metadata: this node as the only broker and controller, topics with their partitions, auto-creating on request.
import { AUTHORIZED_OPERATIONS_OMITTED } from '../../kafka/api.ts';
import { MetadataApi, type MetadataRequest, type MetadataResponse, type MetadataResponseTopic } from '../../kafka/apis/metadata.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { topicNameProblem, type Topic } from '../topics.ts';
import { handler, type HandlerContext } from './context.ts';


export function describeTopic(nodeId: number, t: Topic): MetadataResponseTopic {
  return {
    errorCode: 0,
    name: t.name,
    isInternal: t.internal,
    partitions: t.partitions.map((_, i) => ({
      errorCode: 0,
      partitionIndex: i,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function missing(name: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

async function metadata(ctx: HandlerContext, req: MetadataRequest): Promise<MetadataResponse> {
  const { broker } = ctx;
  const nodeId = broker.config.nodeId;
  let topics: MetadataResponseTopic[];
  if (req.topics === null) {
    topics = broker.topics.list().map((t) => describeTopic(nodeId, t));
  } else {
    topics = await Promise.all(
      req.topics.map(async ({ name }) => {
        if (topicNameProblem(name)) return missing(name, KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
        const t = req.allowAutoTopicCreation ? await broker.topics.getOrCreate(name) : broker.topics.get(name);
        return t ? describeTopic(nodeId, t) : missing(name, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      }),
    );
  }
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId, host: broker.host, port: broker.port, rack: null }],
    clusterId: broker.clusterId,
    controllerId: nodeId,
    topics,
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const metadataHandler = handler(MetadataApi, metadata);
