// The Kafka protocol as the rest of Oxbow uses it from the client side: request and response codecs, record batches
// walked in place, and the errors. No I/O here: the connection that sends these lives with its user (src/sink). (The
// broker, which implements the protocol, works with the codec files directly.)
export type { ApiCodec } from './api.ts';
export { FetchApi, type FetchRequest } from './apis/fetch.ts';
export { LIST_OFFSETS_EARLIEST, LIST_OFFSETS_LATEST, ListOffsetsApi } from './apis/list-offsets.ts';
export { MetadataApi } from './apis/metadata.ts';
export { encodeRequestHeader, responseHeaderIsFlexible } from './header.ts';
export { Reader } from './reader.ts';
export { Writer } from './writer.ts';
export { forEachRecord, nextOffsetAfter, readRecordKeyAndHeaders, type RecordVisitor, type RecordWalk, type RecordHeader } from './record-batch.ts';
export { KafkaClientError, KafkaClientErrorCode, KafkaCodecError, KafkaErrorCode, kafkaErrorName } from './errors.ts';
