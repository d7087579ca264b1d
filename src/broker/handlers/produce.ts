// Produce: validates each partition's record batches and appends them; acks=0 gets no response at all.
import { ProduceApi, type ProducePartitionResponse, type ProduceRequest, type ProduceResponse } from '../../kafka/apis/produce.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { validateBatches } from '../../kafka/record-batch.ts';
import { CloseConnection, NO_RESPONSE } from '../connection.ts';
import { handler, type HandlerContext } from './context.ts';

function failed(index: number, errorCode: number): ProducePartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
}

async function produce(ctx: HandlerContext, req: ProduceRequest): Promise<ProduceResponse | typeof NO_RESPONSE> {
  const { broker, header } = ctx;
  const version = header.apiVersion;
  const responses = await Promise.all(
    req.topicData.map(async (td) => {
      const topic = await broker.topics.getOrCreate(td.name);
      const partitionResponses = await Promise.all(
        td.partitionData.map(async (pd): Promise<ProducePartitionResponse> => {
          // v0–v2 carry the old message formats (magic 0/1), which this broker does not store.
          if (version < ProduceApi.minImplementedVersion) return failed(pd.index, KafkaErrorCode.UNSUPPORTED_VERSION);
          if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) return failed(pd.index, KafkaErrorCode.INVALID_REQUIRED_ACKS);
          if (req.transactionalId !== null) return failed(pd.index, KafkaErrorCode.INVALID_TXN_STATE);
          if (!topic) return failed(pd.index, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const log = topic.partitions[pd.index];
          if (!log) return failed(pd.index, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          if (!pd.records || pd.records.length === 0) return failed(pd.index, KafkaErrorCode.CORRUPT_MESSAGE);
          const checked = validateBatches(pd.records, {
            maxMessageBytes: broker.topics.effectiveConfig(topic)['max.message.bytes'],
            allowZstd: version >= 7,
          });
          if (!checked.ok) {
            broker.log(`rejected produce to ${td.name}-${pd.index} from ${ctx.conn.remote}: ${checked.message}`);
            return failed(pd.index, checked.errorCode);
          }
          let res;
          try {
            res = await log.append(pd.records, checked.batches);
          } catch (err) {
            // The disk failed (or the topic was deleted meanwhile): nothing of this batch was acknowledged.
            broker.log(`append to ${td.name}-${pd.index} failed: ${(err as Error).message}`);
            return failed(pd.index, KafkaErrorCode.KAFKA_STORAGE_ERROR);
          }
          if (!res.ok) return failed(pd.index, res.errorCode);
          return { index: pd.index, errorCode: 0, baseOffset: res.baseOffset, logAppendTimeMs: -1, logStartOffset: res.logStartOffset };
        }),
      );
      return { name: td.name, partitionResponses };
    }),
  );
  if (req.acks === 0) {
    // With acks=0 the client reads no response, so the only way to report a failure is to close the connection.
    const bad = responses.flatMap((t) => t.partitionResponses.filter((p) => p.errorCode !== 0).map((p) => `${t.name}-${p.index}: error ${p.errorCode}`));
    if (bad.length > 0) throw new CloseConnection(`acks=0 produce failed (${bad.join(', ')})`);
    return NO_RESPONSE;
  }
  return { responses, throttleTimeMs: 0 };
}

export const produceHandler = handler(ProduceApi, produce);
