// ListOffsets: earliest (-2), latest (-1) and the first offset at or after a timestamp.
import { LIST_OFFSETS_EARLIEST, LIST_OFFSETS_LATEST, ListOffsetsApi, type ListOffsetsPartitionResponse, type ListOffsetsRequest, type ListOffsetsResponse } from '../../kafka/apis/list-offsets.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { handler, type HandlerContext } from './context.ts';

async function listOffsets(ctx: HandlerContext, req: ListOffsetsRequest): Promise<ListOffsetsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = ctx.broker.topics.get(t.name);
      const partitions = await Promise.all(
        t.partitions.map(async (p): Promise<ListOffsetsPartitionResponse> => {
          const log = topic?.partitions[p.partitionIndex];
          const answer = (offset: number, timestamp: number, errorCode = 0): ListOffsetsPartitionResponse => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            oldStyleOffsets: offset >= 0 ? [offset] : [],
            timestamp,
            offset,
            leaderEpoch: errorCode === 0 ? 0 : -1,
          });
          if (!log) return answer(-1, -1, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          if (p.currentLeaderEpoch > 0) return answer(-1, -1, KafkaErrorCode.FENCED_LEADER_EPOCH);
          if (p.timestamp === LIST_OFFSETS_LATEST) return answer(log.logEndOffset, -1);
          if (p.timestamp === LIST_OFFSETS_EARLIEST) return answer(log.logStartOffset, -1);
          if (p.timestamp < 0) return answer(-1, -1, KafkaErrorCode.INVALID_REQUEST);
          const found = await log.offsetForTimestamp(p.timestamp);
          return found ? answer(found.offset, found.timestamp) : answer(-1, -1);
        }),
      );
      return { name: t.name, partitions };
    }),
  );
  return { throttleTimeMs: 0, topics };
}

export const listOffsetsHandler = handler(ListOffsetsApi, listOffsets);
